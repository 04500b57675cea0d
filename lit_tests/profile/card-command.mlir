// The card's command, profile then compose then pareto, on the chain example,
// with the profile cache in %t (FLOWCOMPILE_CACHE; the default is
// .flowcompile/profile-cache.sqlite in the working directory) and the defaults
// `flowcompile compile` uses too: recovery rates, and adaptive profiling (a
// first round of 32 generated queries, then up to 256 for the candidates that
// can still decide the frontier).
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: env FLOWCOMPILE_CACHE=%t.sqlite flowcompile-opt %examples/chain.mlir --profile --compose --pareto 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=SPENT < %t.err
// The cache was written where FLOWCOMPILE_CACHE said:
// RUN: test -s %t.sqlite

// CHECK: %planner = flow.agent @planner(%query)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = {{[0-9]+}},
// CHECK: %solver = flow.agent @solver
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = {{[0-9]+}}, {{.*}}rec = {{[0-9.]+}}, rec_n = {{[0-9]+}}
// SPENT: profile @chain (adaptive): {{[0-9]+}} rounds (32 queries/{{[0-9]+}} calls/54 in play, 64 queries/{{.*}}; candidates on all 256 queries: checker {{[0-9]+}}/18, planner {{[0-9]+}}/18, solver {{[0-9]+}}/18
// CHECK: flow.config_set @chain_pareto for @chain {points = [#flow.point<acc = {{[0-9.]+}}, lat = {{[0-9.]+}},
// CHECK-SAME: assign = {checker = #flow.config<model = "{{[^"]+}}", budget = {{[0-9]+}}>, planner = #flow.config<model = "{{[^"]+}}", budget = {{[0-9]+}}>, solver = #flow.config<model = "{{[^"]+}}", budget = {{[0-9]+}}>}>
