// A lexer error names the culprit character (xDSL 0.74 leaves `{first_char}`
// unformatted in this message).
// RUN: not flowcompile-opt %s 2>&1 | filecheck %s
// CHECK: parse-error-placeholder.mlir:7:1: error: Expected suffix identifier after '#'
// CHECK-NOT: {{[{]}}first_char{{[}]}}

# a comment in YAML's style, not MLIR's
