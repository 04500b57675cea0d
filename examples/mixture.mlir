builtin.module {
  flow.workflow @mixture(%query: !flow.msg) -> !flow.msg attributes {pool = {"qwen3-1.7b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-1.7B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-4b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-4B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-8b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-8B", api_base = "http://127.0.0.1:8765/v1">, "qwen3-32b" = #flow.model<provider = "hosted_vllm/Qwen/Qwen3-32B", api_base = "http://127.0.0.1:8765/v1">}} {
    %0, %1, %2 = flow.fork @answer {
      %proposer_a = flow.agent @proposer_a(%query) {role = "proposer", prompt = "Answer carefully.\0A{query}", args = ["query"], models = ["qwen3-1.7b", "qwen3-4b", "qwen3-8b"], budgets = [0, 1024]}
      flow.yield %proposer_a
    } {
      %proposer_b = flow.agent @proposer_b(%query) {role = "proposer", prompt = "Answer by working backwards from the goal.\0A{query}", args = ["query"], models = ["qwen3-1.7b", "qwen3-4b", "qwen3-8b"], budgets = [0, 1024]}
      flow.yield %proposer_b
    } {
      %proposer_c = flow.agent @proposer_c(%query) {role = "proposer", prompt = "Answer, then double-check each step.\0A{query}", args = ["query"], models = ["qwen3-1.7b", "qwen3-4b", "qwen3-8b"], budgets = [0, 1024]}
      flow.yield %proposer_c
    }
    %answer = flow.agent @aggregator(%query, %0, %1, %2) {role = "aggregator", prompt = "Several answers to the question follow. Write the best final answer.\0A{query}", args = ["query", "proposer_a", "proposer_b", "proposer_c"], models = ["qwen3-8b", "qwen3-32b"], budgets = [0, 1024, 4096]}
    flow.return %answer
  }
}
