// Round trip of every flow attribute, with and without its optional fields.
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s --print-op-generic | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: flowcompile-opt %s --print-op-generic | filecheck %s --check-prefix=CHECK-GENERIC

// Fields print in declaration order whatever the source order; floats print as
// the shortest literal that round-trips, integers given for floats as floats.

// CHECK:      flow.workflow @chain(%q: !flow.msg) -> !flow.msg attributes {pool = {big = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "http://127.0.0.1:8000/v1", price_in = 5.0e-08, price_out = 2.0e-07>, small = #flow.model<provider = "openai/gpt-4o-mini">}, estimate = #flow.estimate<acc = 0.71, lat = 5.4, acc_lo = 0.65, acc_hi = 0.77, cost = 0.002>} {
flow.workflow @chain(%q: !flow.msg) -> !flow.msg attributes {pool = {big = #flow.model<price_out = 2.0e-07, provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "http://127.0.0.1:8000/v1", price_in = 5.0e-08>, small = #flow.model<provider = "openai/gpt-4o-mini">}, estimate = #flow.estimate<acc = 0.71, lat = 5.4, acc_lo = 0.65, acc_hi = 0.77, cost = 0.002>} {
// CHECK-NEXT:   %0 = flow.agent @solver(%q) {role = "solver", models = ["small", "big"], budgets = [0, 1024], profiles = {"small@0" = #flow.profile<acc = 0.83, acc_n = 200, lat = 1.92, lat_p95 = 3.1, tok_in = 120.5, tok_out = 512.0, cost = 0.0004>, "big@1024" = #flow.profile<acc = 1.0, acc_n = 0, lat = 0.0>}, estimate = #flow.estimate<acc = 0.9, lat = 1.0e-07>}
  %0 = flow.agent @solver(%q) {role = "solver", models = ["small", "big"], budgets = [0, 1024], profiles = {"small@0" = #flow.profile<cost = 4.0e-4, tok_out = 512, tok_in = 120.5, lat_p95 = 3.1, lat = 1.92, acc_n = 200, acc = 0.83>, "big@1024" = #flow.profile<acc = 1, acc_n = 0, lat = 0>}, estimate = #flow.estimate<acc = 0.9, lat = 0.0000001>}
// CHECK-NEXT:   %1 = flow.fork @f attributes {samples = [1, 3]} {
  %1 = flow.fork @f attributes {samples = [1, 3]} {
    %2 = flow.agent @checker(%0) {role = "verifier", models = ["small"], budgets = [0], optional = "pass"}
    flow.yield %2
  }
  flow.return %1
}

// A point with the integer knobs of a fork and an optional agent, and the
// measured values that evaluation adds; then a point with only its estimate.
// CHECK:      flow.config_set @chain_pareto for @chain {points = [#flow.point<acc = 0.71, lat = 5.4, cost = 0.003, measured_acc = 0.69, measured_lat = 5.7, assign = {checker = "skip", solver = #flow.config<model = "big", budget = 1024>, f.samples = 3 : i64}>, #flow.point<acc = 0.5, lat = 1.2, assign = {solver = #flow.config<model = "small", budget = 0>}>]}
flow.config_set @chain_pareto for @chain {points = [#flow.point<assign = {checker = "skip", solver = #flow.config<budget = 1024, model = "big">, f.samples = 3}, measured_lat = 5.7, measured_acc = 0.69, cost = 0.003, lat = 5.4, acc = 0.71>, #flow.point<acc = 0.5, lat = 1.2, assign = {solver = #flow.config<model = "small", budget = 0>}>]}

// Attributes keep their custom syntax in the generic form.
// CHECK-GENERIC: "flow.config_set"() <{sym_name = "chain_pareto", workflow = @chain, points = [#flow.point<acc = 0.71, lat = 5.4, cost = 0.003, measured_acc = 0.69, measured_lat = 5.7, assign = {checker = "skip", solver = #flow.config<model = "big", budget = 1024>, f.samples = 3 : i64}>, #flow.point<acc = 0.5, lat = 1.2, assign = {solver = #flow.config<model = "small", budget = 0>}>]}> : () -> ()
