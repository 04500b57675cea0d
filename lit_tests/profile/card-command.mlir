// The card's command, profile then compose then pareto, on the chain example,
// with the profile cache in %t (FLOWCOMPILE_CACHE; the default is
// .flowcompile/profile-cache.sqlite in the working directory) and the default
// 32 generated queries.
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: env FLOWCOMPILE_CACHE=%t.sqlite flowcompile-opt %examples/chain.mlir --profile --compose --pareto | filecheck %s
// The cache was written where FLOWCOMPILE_CACHE said:
// RUN: test -s %t.sqlite

// CHECK: %planner = flow.agent @planner(%query)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 24,
// CHECK: flow.config_set @chain_pareto for @chain {points = [#flow.point<acc = {{[0-9.]+}}, lat = {{[0-9.]+}},
// CHECK-SAME: assign = {checker = #flow.config<model = "{{[^"]+}}", budget = {{[0-9]+}}>, planner = #flow.config<model = "{{[^"]+}}", budget = {{[0-9]+}}>, solver = #flow.config<model = "{{[^"]+}}", budget = {{[0-9]+}}>}>
