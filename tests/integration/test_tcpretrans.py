# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""tcpretrans against real TCP connections over a veth pair between two network namespaces,
with nftables dropping chosen packets at the receiver's input.  The ground truth is the
kernel's own: each namespace's TCP counters (RetransSegs, TCPFastRetrans, TCPLossProbes,
TCPSynRetrans, ...) and the packets the nftables drop rules counted.  Every TCP packet carries
one segment (tcpnet.py turns segmentation offloads off)."""
import errno
import os
import signal
import unittest

from harness import Test, json_documents
from tcpnet import tcp_pair

PORT = 5000
# data segments of the client (no handshake, no pure ACK, no FIN)
CLIENT_DATA = f"tcp dport {PORT} tcp flags & (syn | fin | rst) == 0 meta length > 100"
# the last data segment of each of the client's bursts (tcp_peer.py send --bursts)
BURST_END = f"tcp dport {PORT} tcp flags & (syn | fin | rst | psh) == psh meta length > 100"
# the first match only (numgen counts the packets that reach it, from the table's creation)
FIRST_ONLY = "numgen inc mod 1000000 == 0"
# every 20th: a retransmission is dropped again rarely enough that none has to wait for a
# timeout (with every 10th, some do, and the timeouts bring spurious retransmissions)
EVERY_20TH = f"{CLIENT_DATA} numgen inc mod 20 == 0 counter drop"


class TcpretransTest(Test):
    def setUp(self):
        super().setUp()
        self.pair = tcp_pair(self)

    def trace(self, *args):
        return self.tracer("tcpretrans", *args)

    def finish(self, tracer, signal_it=True):
        """Ends a tracer with SIGINT: (events, the final JSON document)."""
        if signal_it:
            tracer.signal(signal.SIGINT)
        rc, out, err = tracer.finish()
        self.assertEqual(rc, 0, err)
        docs = json_documents(out)
        self.assertEqual(docs[-1]["type"], "summary", out)
        lost = {k: v for k, v in docs[-1]["lost"].items() if v and k != "recursion_misses"}
        self.assertEqual(lost, {})
        return docs[:-1], docs[-1]

    def transfer(self, *tracer_args, rules=(), nbytes=2_000_000, v6=False, **sender):
        """Runs one client sending nbytes to the server under tracers with tracer_args (one
        tracer per tuple, where {client} and {server} stand for their PIDs: the tracers look
        at these sockets only, whatever else the host does) while side b drops what rules
        say; returns (sender, [(events, summary) per tracer], delta of side a's counters,
        delta of b's, the rule counters)."""
        server = self.pair.serve(PORT, v6=v6, reply_after=sender.get("burst_bytes"),
                        reply=sender.pop("reply_bytes", None))
        table = self.pair.nft("b", rules) if rules else None
        client = self.pair.sender(PORT, nbytes, v6=v6, **sender)
        tracers = [self.trace("--json", *(a.format(client=client.pid, server=server.pid)
                                          for a in args)) for args in tracer_args]
        before = {side: self.pair.counters(side) for side in "ab"}
        client.go()
        client.finish()
        after = {side: self.pair.counters(side) for side in "ab"}
        deltas = [{k: after[side][k] - before[side][k] for k in after[side]} for side in "ab"]
        dropped = table.packets() if table else []
        return client, [self.finish(t) for t in tracers], deltas[0], deltas[1], dropped

    def flow_events(self, events, client, v6=False, kind_of="retransmit"):
        """The events of client's connection, as its own socket sees it"""
        return [e for e in events if e["type"] == kind_of and e["lport"] == client.lport and
                e["raddr"] == self.pair.addr("b", v6) and e["rport"] == PORT]

    def assert_kinds(self, events, delta):
        """The kinds against side a's own counters, which count segments (a retransmitted
        packet may carry two, merged): a fast retransmission is one outside loss recovery
        (TCPFastRetrans); in loss recovery, the timer's own retransmission (TCPTimeouts,
        which counts the SYN's too) and the rest of the window (TCPSlowStartRetrans) are
        RTO."""
        # a retransmission the kernel tried and could not send: the original still in the
        # host's queues (EBUSY: TCPSpuriousRtxHostQueues, which the loss probe also counts
        # when it holds back for that reason), or another error (TCPRetransFail, segments)
        busy = [e for e in events if e["err"] == -errno.EBUSY]
        failed = [e for e in events if e["err"] not in (0, -errno.EBUSY)]
        self.assertLessEqual(len(busy), delta["TCPSpuriousRtxHostQueues"], busy)
        self.assertEqual(sum(e["segs"] for e in failed), delta["TCPRetransFail"], failed)
        events = [e for e in events if e["err"] == 0]
        kinds = [e["kind"] for e in events]

        def segments(kind):
            return sum(e["segs"] for e in events if e["kind"] == kind)

        self.assertEqual(sum(e["segs"] for e in events), delta["RetransSegs"], kinds)
        self.assertEqual(segments("FAST"), delta["TCPFastRetrans"], kinds)
        self.assertEqual(segments("SYN"), delta["TCPSynRetrans"], kinds)
        self.assertEqual(segments("RTO"), delta["TCPTimeouts"] - delta["TCPSynRetrans"] +
                         delta["TCPSlowStartRetrans"], kinds)
        # the probe timer may also send new data instead of a retransmission
        self.assertLessEqual(segments("TLP"), delta["TCPLossProbes"], kinds)

    def test_every_20th_packet_dropped(self):
        """Each retransmission of the flow, with the sender as its owner (not PID 0); together
        they are the namespace's RetransSegs exactly."""
        client, [(events, summary)], delta, _, dropped = self.transfer(
            ("-p", "{client}"), rules=[EVERY_20TH])
        mine = self.flow_events(events, client)
        self.assertGreaterEqual(dropped[0], 50, dropped)
        self.assertGreater(len(mine), 0)
        self.assertEqual(len(mine), len(events), "only this flow retransmits")
        self.assertEqual({(e["pid"], e["comm"]) for e in mine}, {(client.pid, "python3")})
        self.assertEqual({e["ip"] for e in mine}, {4})
        self.assertEqual(summary["segments"], delta["RetransSegs"])
        self.assert_kinds(mine, delta)
        for e in mine:
            # the kernel's RTO is srtt + 4 rttvar, and at least TCP_RTO_MIN
            self.assertGreater(e["srtt_us"], 0, e)
            self.assertLess(e["srtt_us"], e["rto_us"], e)
            self.assertGreaterEqual(e["rto_us"], 200_000, e)
            self.assertGreater(e["cwnd"], 0, e)
        # the socket's own count, this retransmission included, only grows
        totals = [e["total_retrans"] for e in mine]
        self.assertEqual(totals, sorted(totals))
        self.assertGreaterEqual(totals[-1], sum(e["err"] == 0 for e in mine))

    def test_fast_retransmit(self):
        """One segment lost in the middle of a bulk transfer: recovered by a fast
        retransmission, without a timeout."""
        client, [(events, _)], delta, _, dropped = self.transfer(
            ("-p", "{client}"),
            rules=[f"{CLIENT_DATA} numgen inc mod 1000000 == 50 counter drop"])
        mine = self.flow_events(events, client)
        self.assertEqual(dropped, [1])
        self.assertEqual(delta["TCPTimeouts"], 0, delta)
        self.assertEqual([e["kind"] for e in mine], ["FAST"])
        self.assert_kinds(mine, delta)

    def test_tail_loss_probe(self):
        """The last segment of a burst lost: no later segment tells the sender, so the probe
        timer sends it again."""
        client, [(events, _)], delta, _, dropped = self.transfer(
            ("-p", "{client}"),
            rules=[f"{BURST_END} numgen inc mod 1000000 == 2 counter drop"],
            nbytes=0, nodelay=True, bursts=3, burst_bytes=14480, reply_bytes=100)
        mine = self.flow_events(events, client)
        self.assertEqual(dropped, [1])
        # the kinds are what the kernel counted, whatever the timers did
        self.assert_kinds(mine, delta)
        # unless the VM stalled past the retransmission timer, the probe alone recovered it
        if delta["TCPTimeouts"] == 0:
            self.assertEqual([e["kind"] for e in mine], ["TLP"], mine)
            self.assertEqual(delta["TCPLossProbes"], 1, delta)

    def test_timeout(self):
        """The last segment of a burst lost, and its probe too: nothing gets through until
        the retransmission timer (at least 200 ms) sends it once more."""
        client, [(events, _)], delta, _, dropped = self.transfer(
            ("-p", "{client}"),
            rules=[f"{BURST_END} numgen inc mod 1000000 {{ 2, 3 }} counter drop"],
            nbytes=0, nodelay=True, bursts=5, burst_bytes=14480, reply_bytes=100)
        mine = self.flow_events(events, client)
        self.assertEqual(dropped, [2])
        self.assert_kinds(mine, delta)
        self.assertEqual(delta["TCPTimeouts"], 1, delta)
        rto = [e for e in mine if e["kind"] == "RTO"]
        self.assertGreaterEqual(rto[0]["rto_us"], 200_000)
        # right after a timeout the window is one segment
        self.assertEqual(rto[0]["cwnd"], 1, rto[0])
        # the probe, when the VM did not stall past its timer, then the timeout 200 ms later
        if delta["TCPLossProbes"] == 1:
            self.assertEqual([e["kind"] for e in mine], ["TLP", "RTO"], mine)
            self.assertEqual(mine[0]["seq"], mine[1]["seq"])
            self.assertGreaterEqual(mine[1]["ts_ns"] - mine[0]["ts_ns"], 200_000_000)

    def test_syn(self):
        """The first SYN dropped: the client sends it again after a second; the owner is the
        process that called connect()."""
        client, [(events, _)], delta, _, dropped = self.transfer(
            ("-p", "{client}"),
            rules=[f"tcp dport {PORT} tcp flags & (syn | ack) == syn {FIRST_ONLY} "
                       "counter drop"], nbytes=1000)
        mine = self.flow_events(events, client)
        self.assertEqual(dropped, [1])
        self.assertEqual([(e["kind"], e["state"]) for e in mine], [("SYN", "SYN_SENT")])
        self.assertEqual(mine[0]["pid"], client.pid)
        self.assert_kinds(mine, delta)

    def test_synack(self):
        """The first SYN-ACK dropped at the client: the server's listener sends it again;
        its owner is the server."""
        server = self.pair.serve(PORT)
        table = self.pair.nft("a", [f"tcp sport {PORT} tcp flags & (syn | ack) == syn | ack "
                                    f"{FIRST_ONLY} counter drop"])
        client = self.pair.sender(PORT, 1000)
        tracer = self.trace("--json", "-p", str(server.pid))
        before = self.pair.counters("b")
        client.go()
        client.finish()
        delta_b = {k: v - before[k] for k, v in self.pair.counters("b").items()}
        events, _ = self.finish(tracer)
        self.assertEqual(table.packets(), [1])
        synacks = [e for e in events if e["kind"] == "SYNACK"]
        self.assertEqual(len(synacks), delta_b["TCPSynRetrans"], events)
        self.assertGreaterEqual(len(synacks), 1)
        for e in synacks:
            self.assertEqual((e["pid"], e["state"]), (server.pid, "NEW_SYN_RECV"), e)
            self.assertEqual((e["laddr"], e["lport"], e["raddr"], e["rport"]),
                             (self.pair.addr("b"), PORT, self.pair.addr("a"), client.lport))

    def test_ipv6(self):
        client, [(events, summary)], delta, _, dropped = self.transfer(
            ("-p", "{client}"), rules=[EVERY_20TH], v6=True)
        mine = self.flow_events(events, client, v6=True)
        self.assertGreater(len(mine), 0)
        self.assertEqual(len(mine), len(events))
        self.assertEqual({(e["pid"], e["ip"]) for e in mine}, {(client.pid, 6)})
        self.assertEqual(summary["segments"], delta["RetransSegs"])
        self.assert_kinds(mine, delta)

    def test_drops_named_by_the_kernel(self):
        """Each packet the rule dropped, as NETFILTER_DROP (the name in this kernel's BTF),
        with nftables in its kernel stack, owned by the server whose packet it was."""
        cap = os.path.join(self.tmp.name, "drops.cap")
        client, [(events, summary)], _, _, dropped = self.transfer(
            ("--drops", "-p", "{server}", "-o", cap), rules=[EVERY_20TH])
        drops = [e for e in events if e["type"] == "drop"]
        self.assertEqual(summary["drops"], len(drops))
        # the rule's, by its own counter; and, when a retransmission was spurious (the VM held
        # the original back), the receiver's drops of what it already had (TCP_OLD_SEQUENCE)
        rule = [e for e in drops if e["reason"] == "NETFILTER_DROP"]
        self.assertEqual(len(rule), dropped[0])
        self.assertTrue(all(e["reason"].startswith("TCP_") for e in drops if e not in rule),
                        [e["reason"] for e in drops])
        for e in drops:
            self.assertEqual((e["direction"], e["state"]), ("in", "ESTABLISHED"), e)
            self.assertEqual((e["laddr"], e["lport"], e["raddr"], e["rport"]),
                             (self.pair.addr("b"), PORT, self.pair.addr("a"), client.lport))
        for e in rule:
            functions = [f["function"] for f in e["stack"]]
            self.assertIn("nft_do_chain", functions)
            # without the tracer's own frames (those of the task that the softirq interrupted
            # may well be a tracer's)
            softirq = functions.index("handle_softirqs") if "handle_softirqs" in functions \
                else len(functions)
            self.assertFalse([f for f in functions[:softirq] if f and (
                f.startswith("bpf_prog_") or f.startswith("bpf_trace_run"))], functions)
        # the capture: the drops by reason with their kernel stacks, as stallreport reads them
        rc, folded, err = self.run_tool("stallreport", "--format", "folded", cap)
        self.assertEqual(rc, 0, err)
        by_rule = [line for line in folded.splitlines() if "[drop: NETFILTER_DROP]" in line]
        self.assertTrue(all("nft_do_chain" in line for line in by_rule), by_rule)
        self.assertEqual(sum(int(line.rsplit(" ", 1)[1]) for line in by_rule), len(rule))

    def test_counts_equal_events(self):
        """-c counts what the event lines show, per flow, per host and per reason."""
        client, [(events, _), (counts, summary)], delta, _, dropped = self.transfer(
            ("--drops", "-p", "{client},{server}"), ("--drops", "-c", "-p", "{client},{server}"),
            rules=[EVERY_20TH])
        self.assertEqual(len(counts), 0, "without -i, the counts come in the summary")
        # counts are of retransmissions sent; those the kernel could not send are "failed"
        retransmits = [e for e in events if e["type"] == "retransmit" and e["err"] == 0]
        failed = [e for e in events if e["type"] == "retransmit" and e["err"] != 0]
        drops = [e for e in events if e["type"] == "drop"]
        flows = {(f["laddr"], f["lport"], f["raddr"], f["rport"]): f for f in summary["flows"]}
        mine = flows[(self.pair.addr("a"), client.lport, self.pair.addr("b"), PORT)]
        theirs = flows[(self.pair.addr("b"), PORT, self.pair.addr("a"), client.lport)]
        self.assertEqual(mine["retransmits"], len(retransmits), (mine, summary))
        self.assertEqual(mine["failed"], len(failed))
        self.assertEqual(mine["segments"], delta["RetransSegs"])
        self.assertEqual(mine["pid"], client.pid)
        for kind in ("RTO", "FAST", "TLP", "SYN", "SYNACK"):
            self.assertEqual(mine["kinds"][kind],
                             sum(e["kind"] == kind for e in retransmits), kind)
        self.assertEqual(theirs["drops"], len(drops))
        hosts = {h["raddr"]: h for h in summary["remote_hosts"]}
        self.assertEqual(hosts[self.pair.addr("b")]["retransmits"], len(retransmits))
        self.assertEqual(hosts[self.pair.addr("b")]["flows"], 1)
        # one row per reason and kernel stack (what the softirq interrupted varies): the rule's
        # drops by its own counter, the others as the event lines have them
        rows = summary["drop_reasons"]
        self.assertEqual(sum(r["drops"] for r in rows if r["reason"] == "NETFILTER_DROP"),
                         dropped[0])
        for reason in {r["reason"] for r in rows}:
            self.assertEqual(sum(r["drops"] for r in rows if r["reason"] == reason),
                             sum(e["reason"] == reason for e in drops), reason)
        self.assertEqual(summary["retransmits"], len(retransmits))

    def test_pid_filter(self):
        """-p: only the sockets of that process, though both clients lose packets."""
        self.pair.serve(PORT)
        self.pair.nft("b", [EVERY_20TH])
        clients = [self.pair.sender(PORT, 1_000_000) for _ in range(2)]
        both = self.trace("--json", "-p", ",".join(str(c.pid) for c in clients))
        one = self.trace("--json", "-p", str(clients[0].pid))
        for c in clients:
            c.go()
        for c in clients:
            c.finish()
        all_events, all_summary = self.finish(both)
        events, summary = self.finish(one)
        # each client's retransmitted segments, by its socket's own count (tcp_info), less
        # those the kernel did not run the tracer's program for (it counts them)
        for tracer, seen, lost in ((both, all_events, all_summary["lost"]),
                                   (one, events, summary["lost"])):
            traced = clients if tracer is both else clients[:1]
            for c in clients:
                with self.subTest(tracer="both" if tracer is both else "one", client=c.pid):
                    segs = sum(e["segs"] for e in seen if e["pid"] == c.pid and e["err"] == 0)
                    own = c.retransmitted() if c in traced else 0
                    self.assertLessEqual(segs, own)
                    self.assertGreaterEqual(segs, own - lost["recursion_misses"])
        self.assertTrue(all(c.retransmitted() > 0 for c in clients), "both lose packets")
        self.assertEqual({e["pid"] for e in events}, {clients[0].pid})

    def test_owner_from_proc(self):
        """A connection stuck before tcpretrans started, its owner blocked in recv(): BPF
        has not seen the owner, /proc has."""
        self.pair.serve(PORT, reply_after=10_000, reply=100)
        blackout = self.pair.nft("b", [f"{CLIENT_DATA} counter drop"])
        client = self.pair.sender(PORT, 0, nodelay=True, bursts=1, burst_bytes=10_000)
        client.go()
        self.assertGreater(client.lport, 0)  # connected; its burst is being lost
        # timeouts back off: 0.2 s, 0.4, 0.8, 1.6, ...: some fall in the next 3 seconds
        events, _ = self.finish(self.trace("--json", "-d", "3", "-p", str(client.pid)),
                                signal_it=False)
        blackout.remove()
        client.finish()
        mine = self.flow_events(events, client)
        self.assertGreater(len(mine), 0)
        self.assertEqual({(e["pid"], e["comm"], e["kind"]) for e in mine},
                         {(client.pid, "python3", "RTO")})

    def test_text_and_sigterm(self):
        """The text line of a tail-loss probe, and a complete report when ended by SIGTERM."""
        server = self.pair.serve(PORT, reply_after=14480, reply=100)
        self.pair.nft("b", [f"{BURST_END} numgen inc mod 1000000 == 2 drop"])
        client = self.pair.sender(PORT, 0, nodelay=True, bursts=3, burst_bytes=14480)
        # the server keeps the session going until SIGTERM
        cap = os.path.join(self.tmp.name, "text.cap")
        tracer = self.trace("-s", "-p", f"{client.pid},{server.pid}", "-o", cap)
        client.go()
        client.finish()
        tracer.signal(signal.SIGTERM)
        rc, out, err = tracer.finish()
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^TIME +PID +COMM +IP +LADDR:LPORT +T> +RADDR:RPORT +STATE +"
                                   r"KIND +SRTT +RTO +CWND +RETRANS +SEQ$")
        endpoint = f"{self.pair.addr('a')}:{client.lport}"
        [line] = [line for line in lines if endpoint in line]
        self.assertRegex(line, rf"^\d\d:\d\d:\d\d\.\d{{3}} {client.pid} +python3 +4 +"
                               rf"{endpoint} +L> {self.pair.addr('b')}:{PORT} +ESTABLISHED +"
                               r"TLP +\S+s +\d+ms +\d+ +1 +\d+$")
        self.assertIn("(terminated). 1 retransmission (1 segments): RTO 0, FAST 0, TLP 1, "
                      "SYN 0, SYNACK 0", out)
        self.assertEqual(lines[-3:-1], ["lost: none", "ended: terminated"])
        self.assertTrue(lines[-1].startswith("cost: "), lines[-1])
        # the capture's text is what was printed
        self.assertEqual(self.run_tool("stallreport", cap)[1], out)

    def test_bad_input(self):
        for args, rc, message in [
                (["-p", "999999999"], 1, "999999999"),
                (["-4", "-6"], 2, "-4 and -6 cannot be combined"),
                (["-i", "1s"], 2, "-i needs -c"),
                (["-t", "1"], 2, "use -p"),
                (["-d", "5parsecs"], 2, "invalid"),
                (["eth0"], 2, "unexpected argument"),
                (["--dorps"], 2, "unrecognized option")]:
            code, out, err = self.run_tool("tcpretrans", *args)
            self.assertEqual(code, rc, (args, err))
            self.assertIn(message, err, args)
            self.assertEqual(out, "", args)


if __name__ == "__main__":
    unittest.main()
