# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Whether a file is valid speedscope: by the JSON schema the speedscope npm package ships
(validated with Debian's python3-jsonschema), then by what speedscope's importer relies on and
the schema cannot say (frame indexes in range, a weight per sample).

The package is installed with npm install --prefix tests/integration/npm
speedscope@VERSION (scripts/setup test); SPEEDSCOPE_SCHEMA names another schema file."""
import json
import os

import jsonschema

DEFAULT_SCHEMA = os.environ.get("SPEEDSCOPE_SCHEMA", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "npm", "node_modules", "speedscope",
    "dist", "release", "file-format-schema.json"))


def profile_errors(profile, nframes, path):
    errors = []
    samples, weights = profile.get("samples", []), profile.get("weights", [])
    if len(samples) != len(weights):
        errors.append(f"{path}: {len(samples)} samples but {len(weights)} weights")
    for i, stack in enumerate(samples):
        bad = [f for f in stack if not 0 <= f < nframes]
        if bad:
            errors.append(f"{path}.samples[{i}]: frame indexes out of range: {bad[:5]}")
    if any(w < 0 for w in weights):
        errors.append(f"{path}.weights: negative weights")
    if profile.get("endValue", 0) < profile.get("startValue", 0):
        errors.append(f"{path}: endValue before startValue")
    return errors


def check(document, schema_path=DEFAULT_SCHEMA):
    """Everything wrong with a speedscope document (parsed JSON); [] if nothing is"""
    with open(schema_path) as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(document)]
    if errors:
        return errors
    nframes = len(document["shared"]["frames"])
    for i, profile in enumerate(document["profiles"]):
        if profile.get("type") == "sampled":
            errors += profile_errors(profile, nframes, f"profiles[{i}]")
    active = document.get("activeProfileIndex", 0)
    if not 0 <= active < max(1, len(document["profiles"])):
        errors.append(f"activeProfileIndex {active} of {len(document['profiles'])} profiles")
    return errors
