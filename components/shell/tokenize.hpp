// Splitting a command line into arguments, shell style: blanks separate
// words; "double quotes" keep blanks (and may sit anywhere in a word:
// a"b c"d is one argument, ab cd); a backslash takes the next character
// literally ("\"", "\\", "\ " outside quotes); "" is an empty argument.
#pragma once

namespace rtos::shell {

/// Splits `s` in place into at most `max` arguments. Returns argc,
/// kTooMany past `max`, kUnterminated for a quote left open.
constexpr int kTooMany = -1;
constexpr int kUnterminated = -2;
int tokenize(char* s, char** argv, int max);

}  // namespace rtos::shell
