// RUN: flowcompile-opt %S/pareto.mlir --compose --pareto | flowcompile-translate --export-json | filecheck %s
// RUN: not flowcompile-translate --export-json %S/pareto.mlir 2>&1 | filecheck %s --check-prefix=NOSET

// CHECK:      "format": "flowcompile.config-set",
// CHECK:      "points": [
// CHECK:        "active": [
// CHECK-NEXT:     "plan",
// CHECK:          "plan": {
// CHECK-NEXT:       "budget": 0,
// CHECK-NEXT:       "model": "s"
// CHECK:        "lat": 1.1,
// CHECK:      "pool": {},
// CHECK-NEXT: "version": 1,
// CHECK-NEXT: "workflow": "chain",
// CHECK-NEXT: "workflow_hash": "sha256:{{[0-9a-f]+}}"
// NOSET: pareto.mlir: error: no flow.config_set in the input: run the pareto pass first
