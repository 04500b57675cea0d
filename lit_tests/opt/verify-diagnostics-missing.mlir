// --verify-diagnostics fails (exit 1) when an expected error is not produced,
// or is produced on another line than the one the annotation names.
// RUN: not flowcompile-opt %s --split-input-file --verify-diagnostics 2>&1 | filecheck %s

// CHECK: verify-diagnostics-missing.mlir:[[# @LINE + 3]]:1: error: expected error "duplicate choices" was not produced
// CHECK-NOT: unexpected
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{duplicate choices}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
  flow.return %0
}

// -----

// CHECK: verify-diagnostics-missing.mlir:[[# @LINE + 2]]:1: error: expected error "duplicate choices" was not produced (got at line [[# @LINE + 3]]: 'agent @a: models: duplicate choices')
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+2 {{duplicate choices}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m", "m"], budgets = [0]}
  flow.return %0
}
// CHECK-NEXT: verify-diagnostics-missing.mlir:[[# @LINE - 3]]:3: error: unexpected error: agent @a: models: duplicate choices
