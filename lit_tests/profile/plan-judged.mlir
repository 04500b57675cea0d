// A planner's outputs give no query's reference answer: profiling judges its
// candidates by agreement with the reference run's plan and says so on the
// agent (`judged`), which `compose` reads; the answer agents carry nothing.
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 cache=none}' 2>/dev/null | filecheck %s

// CHECK: flow.agent @planner
// CHECK-SAME: judged = "reference output"
// CHECK: flow.agent @solver
// CHECK-NOT: judged =
// CHECK: flow.return
