// Profiling again rewrites the profiles, so it must erase what was derived from
// them: the estimates, the votes' wrong_agree, the frontier, space and
// validated. The proxy rules stay: they depend on the structure alone.
// RUN: flowcompile-opt %examples/self_consistency.mlir -p 'profile{samples=12 max-samples=0 cache=none},compose,enumerate' \
// RUN:   | flowcompile-opt -p 'profile{samples=12 max-samples=0 cache=none seed=1}' | filecheck %s
// RUN: flowcompile-opt %examples/self_consistency.mlir -p 'profile{samples=12 max-samples=0 cache=none},compose,enumerate' \
// RUN:   | flowcompile-opt -p 'profile{samples=12 max-samples=0 cache=none seed=1}' | filecheck %s --check-prefix=GONE

// GONE-NOT: {{estimates|frontier|space|validated}}

// CHECK:     flow.agent @solver
// CHECK-SAME: profiles = {
// CHECK-SAME: proxy = "sequence"
// CHECK:     flow.vote(%{{[0-9]+}}) {method = "majority", proxy = "binomial-plurality"}
