// A parse error is `file:line:col: error:` with the source line and a caret,
// exit status 1, and no traceback.
// RUN: not flowcompile-opt %s 2>&1 | filecheck %s

// CHECK:      parse-error.mlir:[[# @LINE + 5]]:103: error: #flow.profile: acc must be in [0, 1], got 1.5
// CHECK-NEXT: {{^}}  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 1.5, acc_n = 1, lat = 1.0>}}
// CHECK-NEXT: {{^ +\^+$}}
// CHECK-NOT:  Traceback
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 1.5, acc_n = 1, lat = 1.0>}}
  flow.return %0
}
