// The summary line on stderr, and the cache: a first run makes every call, a
// second run on the same cache makes none and prints the same IR.
// by-answers=false: every agent judged by the reference run's accepted outputs,
// as the paper does (profile/by-answers.mlir tests the default).
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 by-answers=false recovery=false cache="%t.sqlite"}' -o %t.first.mlir 2>&1 | filecheck %s --check-prefix=FIRST
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 by-answers=false recovery=false cache="%t.sqlite"}' -o %t.second.mlir 2>&1 | filecheck %s --check-prefix=SECOND
// RUN: diff %t.first.mlir %t.second.mlir
// Without a cache every call is made again:
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 by-answers=false recovery=false cache=none}' -o %t.none.mlir 2>&1 | filecheck %s --check-prefix=FIRST

// 24 reference calls (3 agents x 8 queries), 6 accepted runs, then 3 agents x
// 18 candidates x 6 recorded inputs = 324 candidate calls.
// FIRST: profile @chain: reference runs 0/8
// FIRST: profile @chain: candidates 324/324
// FIRST-NEXT: {{^}}profile @chain: 348 calls (24 reference on 8 queries, 6 accepted; 324 candidate calls for 3 agents); 348 made, 0 cache hits, 0 retries, 0 failures, {{[0-9]+\.[0-9]}} s{{$}}
// SECOND: {{^}}profile @chain: 348 calls (24 reference on 8 queries, 6 accepted; 324 candidate calls for 3 agents); 0 made, 348 cache hits, 0 retries, 0 failures, {{[0-9]+\.[0-9]}} s{{$}}
