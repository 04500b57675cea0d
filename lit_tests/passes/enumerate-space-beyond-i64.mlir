// The space size holds any number: 64 agents of 2 candidates each make 2^64
// configurations, one past i64's range, written as an i128 (smaller sizes stay i64,
// printed bare). The frontier is one point: "b" beats "s" on both objectives.
// RUN: flowcompile-opt %s -p enumerate | filecheck %s
// RUN: flowcompile-opt %s -p enumerate | flowcompile-opt | filecheck %s

// CHECK:      flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {space = 18446744073709551616 : i128,
// CHECK-SAME: frontier = [#flow.point<acc = 0.937975, lat = 64.0, cost = 0.0, assign = {a0 = #flow.config<model = "b", budget = 0>,
// CHECK-SAME: a9 = #flow.config<model = "b", budget = 0>}>]} {
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a0 = flow.agent @a0(%q) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a1 = flow.agent @a1(%a0) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a2 = flow.agent @a2(%a1) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a3 = flow.agent @a3(%a2) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a4 = flow.agent @a4(%a3) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a5 = flow.agent @a5(%a4) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a6 = flow.agent @a6(%a5) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a7 = flow.agent @a7(%a6) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a8 = flow.agent @a8(%a7) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a9 = flow.agent @a9(%a8) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a10 = flow.agent @a10(%a9) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a11 = flow.agent @a11(%a10) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a12 = flow.agent @a12(%a11) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a13 = flow.agent @a13(%a12) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a14 = flow.agent @a14(%a13) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a15 = flow.agent @a15(%a14) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a16 = flow.agent @a16(%a15) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a17 = flow.agent @a17(%a16) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a18 = flow.agent @a18(%a17) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a19 = flow.agent @a19(%a18) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a20 = flow.agent @a20(%a19) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a21 = flow.agent @a21(%a20) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a22 = flow.agent @a22(%a21) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a23 = flow.agent @a23(%a22) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a24 = flow.agent @a24(%a23) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a25 = flow.agent @a25(%a24) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a26 = flow.agent @a26(%a25) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a27 = flow.agent @a27(%a26) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a28 = flow.agent @a28(%a27) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a29 = flow.agent @a29(%a28) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a30 = flow.agent @a30(%a29) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a31 = flow.agent @a31(%a30) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a32 = flow.agent @a32(%a31) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a33 = flow.agent @a33(%a32) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a34 = flow.agent @a34(%a33) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a35 = flow.agent @a35(%a34) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a36 = flow.agent @a36(%a35) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a37 = flow.agent @a37(%a36) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a38 = flow.agent @a38(%a37) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a39 = flow.agent @a39(%a38) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a40 = flow.agent @a40(%a39) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a41 = flow.agent @a41(%a40) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a42 = flow.agent @a42(%a41) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a43 = flow.agent @a43(%a42) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a44 = flow.agent @a44(%a43) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a45 = flow.agent @a45(%a44) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a46 = flow.agent @a46(%a45) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a47 = flow.agent @a47(%a46) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a48 = flow.agent @a48(%a47) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a49 = flow.agent @a49(%a48) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a50 = flow.agent @a50(%a49) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a51 = flow.agent @a51(%a50) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a52 = flow.agent @a52(%a51) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a53 = flow.agent @a53(%a52) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a54 = flow.agent @a54(%a53) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a55 = flow.agent @a55(%a54) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a56 = flow.agent @a56(%a55) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a57 = flow.agent @a57(%a56) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a58 = flow.agent @a58(%a57) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a59 = flow.agent @a59(%a58) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a60 = flow.agent @a60(%a59) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a61 = flow.agent @a61(%a60) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a62 = flow.agent @a62(%a61) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  %a63 = flow.agent @a63(%a62) {role = "solver", models = ["s", "b"], budgets = [0], estimates = {"s@0" = #flow.estimate<acc = 0.99, lat = 2.0>, "b@0" = #flow.estimate<acc = 0.999, lat = 1.0>}, proxy = "sequence"}
  flow.return %a63
}
