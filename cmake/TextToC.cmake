# cmake -DINPUT=file -DOUTPUT=file.h -P TextToC.cmake: the text of INPUT as the lines of a C
# string literal, to #include where a string is expected (the flame graph's script).
file(READ ${INPUT} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\t" "\\t" text "${text}")
string(REGEX REPLACE "([^\n]*)\n" "\t\"\\1\\\\n\"\n" text "${text}")
file(WRITE ${OUTPUT} "${text}")
