// RUN: flowcompile-opt %s -p 'compose,pareto{max-latency=5.0}' | filecheck %s --check-prefix=LAT
// RUN: flowcompile-opt %s -p 'compose,pareto{min-acc=0.5}' | filecheck %s --check-prefix=ACC
// RUN: flowcompile-opt %s -p 'compose,pareto{max-cost=0.0005}' | filecheck %s --check-prefix=COST
// RUN: flowcompile-opt %s -p 'compose,pareto{k=2}' | filecheck %s --check-prefix=K
// RUN: not flowcompile-opt %s -p 'compose,pareto{min-acc=0.9 max-latency=3.0}' 2>&1 | filecheck %s --check-prefix=NONE

// The frontier is (0.309835, 1.1), (0.45564, 2.6), (0.625709, 5.0), (0.838294, 8.0).
// LAT:      points = [#flow.point<acc = 0.309835, lat = 1.1, {{.*}}#flow.point<acc = 0.45564, lat = 2.6, {{.*}}#flow.point<acc = 0.625709, lat = 5.0, {{.*}}]}
// LAT-NOT:  lat = 8.0
// ACC:      points = [#flow.point<acc = 0.625709, lat = 5.0, {{.*}}#flow.point<acc = 0.838294, lat = 8.0, {{.*}}]}
// COST:     points = [#flow.point<acc = 0.309835, lat = 1.1, {{.*}}]}
// The two points of largest hypervolume (reference: acc 0, latency 8.0 * 1.05
// = 8.4): (1.1, 5.0) covers 0.309835 * 7.3 + (0.625709 - 0.309835) * 3.4 = 3.336,
// more than (2.6, 5.0) 3.221, (1.1, 2.6) 3.107 or any pair with 8.0.
// K:        points = [#flow.point<acc = 0.309835, lat = 1.1, {{.*}}>, #flow.point<acc = 0.625709, lat = 5.0, {{.*}}>]}
// NONE:     error: pareto: no configuration of @chain meets the constraints (max-latency 3, min-acc 0.9); 4 Pareto points, the most accurate at acc 0.838294, the fastest at 1.1 s
flow.workflow @chain(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %s = flow.agent @solve(%q, %p) {role = "solver", models = ["s", "m", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 40, lat = 0.6>, "m@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 3.0>, "b@0" = #flow.profile<acc = 0.95, acc_n = 40, lat = 6.0>}}
  flow.return %s
}
