// Round trip of `wrong_agree` (how often two wrong answers agree) and
// `wrong_agree_n` (over how many pairs) on an agent, where profiling writes
// them, and of the vote's `wrong_agree`, the parameter compose gives its rule;
// an integer given for the rate is a float.
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s --print-op-generic | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2

// CHECK: flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0], wrong_agree = 0.31, wrong_agree_n = 412}
// CHECK: flow.vote(%0) {method = "majority", wrong_agree = 1.0}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.fork @f attributes {samples = [1, 3]} {
    %s = flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0], wrong_agree = 0.31, wrong_agree_n = 412}
    flow.yield %s
  }
  %v = flow.vote(%0) {method = "majority", wrong_agree = 1}
  flow.return %v
}
