// Round trip of #flow.sampling on flow.agent and of `reasoning = false` in the pool:
// fields print in declaration order, absent ones not at all, and a model declared
// not to reason has one candidate per agent (its profiles key, "small@0", only).
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s --print-op-generic | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: flowcompile-opt %s --print-op-generic | filecheck %s --check-prefix=CHECK-GENERIC

// CHECK:      flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {small = #flow.model<provider = "openai/small", reasoning = false>, big = #flow.model<provider = "openai/big", reasoning = true>}} {
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {small = #flow.model<reasoning = false, provider = "openai/small">, big = #flow.model<provider = "openai/big", reasoning = true>}} {
// CHECK-NEXT:   %0 = flow.agent @solver(%q) {role = "solver", models = ["small", "big"], budgets = [0, 1024], sampling = #flow.sampling<temperature = 0.7, top_p = 0.95, max_tokens = 256, seed = 7, stop = ["\0A\0A", "Q:"]>, profiles = {"small@0" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0>, "big@1024" = #flow.profile<acc = 0.75, acc_n = 4, lat = 2.0>}}
  %0 = flow.agent @solver(%q) {role = "solver", models = ["small", "big"], budgets = [0, 1024], sampling = #flow.sampling<stop = ["\0A\0A", "Q:"], seed = 7, max_tokens = 256, top_p = 0.95, temperature = 0.7>, profiles = {"small@0" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0>, "big@1024" = #flow.profile<acc = 0.75, acc_n = 4, lat = 2.0>}}
// CHECK-NEXT:   %1 = flow.agent @checker(%0) {role = "checker", models = ["big"], budgets = [0], sampling = #flow.sampling<temperature = 0.0>}
  %1 = flow.agent @checker(%0) {role = "checker", models = ["big"], budgets = [0], sampling = #flow.sampling<temperature = 0>}
// CHECK-NEXT:   flow.return %1
  flow.return %1
}

// CHECK-GENERIC: "flow.agent"(%q) <{sym_name = "solver", role = "solver", models = ["small", "big"], budgets = array<i64: 0, 1024>, sampling = #flow.sampling<temperature = 0.7, top_p = 0.95, max_tokens = 256, seed = 7, stop = ["\0A\0A", "Q:"]>}>
