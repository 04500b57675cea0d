// --verify-diagnostics fails (exit 1) on an error that no annotation expects,
// even when the other chunks match.
// RUN: not flowcompile-opt %s --split-input-file --verify-diagnostics 2>&1 | filecheck %s

// CHECK-NOT: was not produced
// CHECK:     verify-diagnostics-unexpected.mlir:[[# @LINE + 3]]:3: error: unexpected error: agent @a: budgets: duplicate choices
// CHECK-NOT: error
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0, 0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{budgets: duplicate choices}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0, 0]}
  flow.return %0
}
