// Without --verify-diagnostics, a verifier error is `file:line:col: error:`
// at the op, exit status 1, and no traceback or output.
// RUN: not flowcompile-opt %s > %t.stdout 2> %t.stderr
// RUN: filecheck %s < %t.stderr
// RUN: not grep -q . %t.stdout

// CHECK-NOT: Traceback
// CHECK:     {{^.*}}verifier-error.mlir:[[# @LINE + 4]]:3: error: agent @a: models: duplicate choices
// CHECK-NOT: Traceback
// CHECK-NOT: error
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m", "m"], budgets = [0]}
  flow.return %0
}
