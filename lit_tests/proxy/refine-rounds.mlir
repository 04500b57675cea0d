// The refine loop composes the reference run's per-round fix rates (`revised`,
// `fixed`): with a third round that fixed none of the drafts it revised, three
// rounds are no more accurate than two and slower, so no point of the frontier
// takes them; without the counts every round fixes alike and some point does.
// RUN: flowcompile-opt %s --split-input-file -p 'compose,enumerate' | filecheck %s

// CHECK-LABEL: flow.workflow @dead_third_round
// CHECK-NOT: final.max_iters = 3
// CHECK: flow.return
flow.workflow @dead_third_round(%q: !flow.msg) -> !flow.msg {
  %d = flow.agent @draft(%q) {role = "drafter", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %o = flow.loop @final iter(%cur = %d) attributes {max_iters = [1, 2, 3], revised = [40, 30, 30], fixed = [12, 9, 0]} {
    %c = flow.agent @critic(%q, %cur) {role = "critic", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
    %r = flow.agent @revise(%q, %cur, %c) {role = "reviser", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}, recovery = 0.3}
    flow.until %c, %r
  }
  flow.return %o
}

// -----

// CHECK-LABEL: flow.workflow @every_round_alike
// CHECK: final.max_iters = 3
flow.workflow @every_round_alike(%q: !flow.msg) -> !flow.msg {
  %d = flow.agent @draft(%q) {role = "drafter", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %o = flow.loop @final iter(%cur = %d) attributes {max_iters = [1, 2, 3]} {
    %c = flow.agent @critic(%q, %cur) {role = "critic", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
    %r = flow.agent @revise(%q, %cur, %c) {role = "reviser", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}, recovery = 0.3}
    flow.until %c, %r
  }
  flow.return %o
}
