// Profiling again rewrites the profiles, so it must erase what was derived from
// them: the estimates, the proxy rules (whether each composes query by query
// follows from the profiles), the votes' wrong_agree, the frontier, space and
// validated.
// RUN: flowcompile-opt %examples/self_consistency.mlir -p 'profile{samples=12 max-samples=0 cache=none},compose,enumerate' \
// RUN:   | flowcompile-opt -p 'profile{samples=12 max-samples=0 cache=none seed=1}' | filecheck %s
// RUN: flowcompile-opt %examples/self_consistency.mlir -p 'profile{samples=12 max-samples=0 cache=none},compose,enumerate' \
// RUN:   | flowcompile-opt -p 'profile{samples=12 max-samples=0 cache=none seed=1}' | filecheck %s --check-prefix=GONE

// GONE-NOT: {{estimates|proxy|frontier|space|validated}}

// CHECK:     flow.agent @solver
// CHECK-SAME: profiles = {
// CHECK:     flow.vote(%{{[0-9]+}}) {method = "majority"}
