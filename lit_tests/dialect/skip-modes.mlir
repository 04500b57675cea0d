// Round trip of the skip semantics of an optional agent: "pass" (its one
// input passes on; of several, the one `passes` gives the index of: an
// ensemble switched off) and "absent" (no value: a proposer alone in a fork
// branch, read by an aggregator that always has another proposal).
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: flowcompile-opt %s | flowcompile-opt --print-op-generic | filecheck %s --check-prefix=CHECK-GENERIC

flow.workflow @skips(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork @answer {
    %p1 = flow.agent @p1(%q) {role = "proposer", models = ["m"], budgets = [0]}
    flow.yield %p1
  } {
// CHECK:      %p2 = flow.agent @p2(%q) {role = "proposer", models = ["m"], budgets = [0], optional = "absent"}
    %p2 = flow.agent @p2(%q) {optional = "absent", role = "proposer", models = ["m"], budgets = [0]}
    flow.yield %p2
  }
// CHECK:      %g = flow.agent @g(%q, %a, %b) {role = "aggregator", models = ["m"], budgets = [0], optional = "pass", passes = 1}
  %g = flow.agent @g(%q, %a, %b) {passes = 1, role = "aggregator", models = ["m"], budgets = [0], optional = "pass"}
// CHECK:      %c = flow.agent @check(%g) {role = "verifier", models = ["m"], budgets = [0], optional = "pass"}
  %c = flow.agent @check(%g) {role = "verifier", models = ["m"], budgets = [0], optional = "pass"}
  flow.return %c
}
// CHECK-GENERIC: "flow.agent"(%q) <{sym_name = "p2", role = "proposer", models = ["m"], budgets = array<i64: 0>, optional = "absent"}> : (!flow.msg) -> !flow.msg
// CHECK-GENERIC: "flow.agent"(%q, %a, %b) <{sym_name = "g", role = "aggregator", models = ["m"], budgets = array<i64: 0>, optional = "pass", passes = 1 : i64}> : (!flow.msg, !flow.msg, !flow.msg) -> !flow.msg
// CHECK-GENERIC: "flow.agent"(%g) <{sym_name = "check", role = "verifier", models = ["m"], budgets = array<i64: 0>, optional = "pass"}> : (!flow.msg) -> !flow.msg
