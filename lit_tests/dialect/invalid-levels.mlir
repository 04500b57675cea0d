// Verifiers of the per-level fields of #flow.profile and #flow.estimate
// (`by_right`, `by_right_n`): rates in [0, 1], counts >= 0, one entry of each
// per level, both or neither; an estimate's curve non-decreasing (more right
// proposals never hurt: the proxy's rule and the search's exactness need it).
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{#flow.profile: by_right[2] must be in [0, 1], got 1.5}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right = [0.0, 0.5, 1.5], by_right_n = [3, 3, 3]>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: by_right[0] must be in [0, 1], got -0.1}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right = [-0.1, 0.5], by_right_n = [3, 3]>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: by_right_n[1] must be >= 0, got -2}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right = [0.0, 0.5], by_right_n = [3, -2]>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: by_right and by_right_n need one entry per level, the same number: got 3 and 2}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right = [0.0, 0.5, 1.0], by_right_n = [3, 3]>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: by_right and by_right_n need one entry per level, the same number: got 0 and 0}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right = [], by_right_n = []>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: by_right and by_right_n go together: give both or neither}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right = [0.0, 0.5]>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: by_right and by_right_n go together: give both or neither}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right_n = [3, 3]>} : () -> ()

// -----

// Counts are integers.
// expected-error @+1 {{Expected integer literal}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, by_right = [0.0, 0.5], by_right_n = [3, 2.5]>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: by_right[1] must be in [0, 1], got 1.2}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, by_right = [0.5, 1.2]>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: by_right must be non-decreasing (more right proposals never hurt): by_right[2] = 0.4 < by_right[1] = 0.6}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, by_right = [0.1, 0.6, 0.4]>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: by_right needs at least one level}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, by_right = []>} : () -> ()
