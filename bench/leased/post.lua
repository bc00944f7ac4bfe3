-- wrk script for bench/leased: POST the benchmarks' small chat completion (max_tokens 32) with the model named by
-- $BENCH_MODEL, so each ledger's gateway is asked to decide the same budget.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-client-key"
wrk.body = '{"model":"' .. (os.getenv("BENCH_MODEL") or "gpt-cmp") .. '","messages":[{"role":"system","content":' ..
  '"You are a helpful assistant."},{"role":"user","content":"Say hello."}],"max_tokens":32}'
