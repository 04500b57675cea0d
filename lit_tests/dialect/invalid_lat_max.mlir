// Verifiers of the parallel-latency fields of #flow.profile and #flow.estimate
// (`lat_max`: the expected slowest of k replicas, k = 1..K; `lat_q`: latency
// atoms): latencies >= 0, at least one entry; atoms ascending; an estimate's
// `lat_max` non-decreasing (a profile's may dip by noise: compose smooths it).
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{#flow.profile: lat_max[1] must be >= 0, got -1.0}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, lat_max = [1.0, -1.0]>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: lat_q needs at least one entry}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, lat_q = []>} : () -> ()

// -----

// expected-error @+1 {{#flow.profile: lat_q must be non-decreasing: lat_q[1] = 0.5 < lat_q[0] = 1.5}}
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, lat_q = [1.5, 0.5]>} : () -> ()

// -----

// A profile's measured maxima may dip; an estimate's may not.
"test.op"() {a = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0, lat_max = [1.0, 1.4, 1.3]>} : () -> ()
// expected-error @+1 {{#flow.estimate: lat_max must be non-decreasing: lat_max[2] = 1.3 < lat_max[1] = 1.4}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, lat_max = [1.0, 1.4, 1.3]>} : () -> ()

// -----

// expected-error @+1 {{#flow.estimate: lat_q[0] must be >= 0, got -0.5}}
"test.op"() {a = #flow.estimate<acc = 0.5, lat = 1.0, lat_q = [-0.5, 1.0]>} : () -> ()
