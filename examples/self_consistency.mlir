builtin.module {
  flow.workflow @self_consistency(%query: !flow.msg) -> !flow.msg attributes {pool = {"qwen3-0.6b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-0.6B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-4b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-4B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-8b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-32b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-32B", api_base = "http://127.0.0.1:8765/v1">}} {
    %0 = flow.fork @answer attributes {samples = [1, 3, 5]} {
      %solver = flow.agent @solver(%query) {role = "solver", prompt = "Solve step by step, then give the final answer.\0A{query}", args = ["query"], models = ["qwen3-0.6b", "qwen3-4b", "qwen3-8b", "qwen3-32b"], budgets = [0, 1024, 4096]}
      flow.yield %solver
    }
    %answer = flow.vote(%0) {method = "majority"}
    flow.return %answer
  }
}
