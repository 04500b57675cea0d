// validate reads the proxy: without compose it is a located error, exit 1.
// RUN: not flowcompile-opt %examples/chain.mlir -p 'validate{cache=none}' 2>&1 | filecheck %s
// CHECK: chain.mlir:{{[0-9]+}}:{{[0-9]+}}: error: validate: @chain has no estimates: run compose before validate
