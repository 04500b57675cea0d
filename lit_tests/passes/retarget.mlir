// retarget recomputes each candidate's latency from its mean tokens and the
// speed table (hand-written numbers, not the simulator's):
//   s@0: 0.1 + (201 - 1) / 200 = 1.1 s (s has no prefill rate: within ttft);
//   b@0: 0.5 + 400 / 1000 + (101 - 1) / 50 = 2.9 s.
// lat_p95, lat_max and lat_q scale by new / old lat: s x 1.1 / 1.0, b x 2.9 / 2.0.
// It erases what was derived from the profiles and records the table's digest.
// RUN: flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds.json"}' | filecheck %s
// Same input and table, same bytes:
// RUN: flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds.json"}' > %t.1
// RUN: flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds.json"}' > %t.2
// RUN: diff %t.1 %t.2
// The retargeted IR round-trips, and composes and searches on the new latencies:
// RUN: flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds.json"}' | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds.json"},compose,enumerate' | filecheck %s --check-prefix=FRONT
// Profiling again would measure the latencies again: strip-profiles drops the record too.
// RUN: flowcompile-opt %s -p 'retarget{speeds="%S/Inputs/speeds.json"},strip-profiles' | filecheck %s --check-prefix=STRIP

// CHECK-NOT: frontier
// CHECK-NOT: space =
// CHECK: flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {retargeted = {speeds = "sha256:{{[0-9a-f]+}}", backend = "litellm", concurrency = 1, simulated = 0}}
// CHECK: profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.1, lat_p95 = 1.65, tok_in = 50.0, tok_out = 201.0, lat_max = [1.1, 1.54, 1.65]>,
// CHECK-SAME: "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 2.9, lat_p95 = 4.35, tok_in = 400.0, tok_out = 101.0, lat_q = [1.45, 2.9, 4.35]>}
// CHECK-NOT: estimates

// FRONT: frontier = [#flow.point<acc = {{[0-9.]+}}, lat = 1.1,
// FRONT-SAME: #flow.point<acc = {{[0-9.]+}}, lat = 2.9,

// STRIP-NOT: retargeted
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {space = 2, frontier = [#flow.point<acc = 0.8, lat = 2.0, assign = {solve = #flow.config<model = "b", budget = 0>}>]} {
  %s = flow.agent @solve(%q) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.6, lat = 1.0>, "b@0" = #flow.estimate<acc = 0.8, lat = 2.0>}, profiles = {
    "s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0, lat_p95 = 1.5, tok_in = 50.0, tok_out = 201.0, lat_max = [1.0, 1.4, 1.5]>,
    "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 2.0, lat_p95 = 3.0, tok_in = 400.0, tok_out = 101.0, lat_q = [1.0, 2.0, 3.0]>}}
  flow.return %s
}
