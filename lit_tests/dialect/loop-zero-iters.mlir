// Round trip of a loop whose max_iters choices include 0 (run no iteration).
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s --print-op-generic | filecheck %s --check-prefix=CHECK-GENERIC

// CHECK: %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [0, 1, 3]} {
// CHECK-GENERIC: "flow.loop"(%q) <{sym_name = "l", max_iters = array<i64: 0, 1, 3>}> ({
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [0, 1, 3]} {
    %v = flow.agent @critic(%c) {role = "critic", models = ["m"], budgets = [0]}
    %r = flow.agent @revise(%c, %v) {role = "reviser", models = ["m"], budgets = [0]}
    flow.until %v, %r
  }
  flow.return %0
}
