#!/usr/bin/env bash
# tests/web/test_openai_api.sh -- POST /v1/chat/completions through lighttpd and Apache: the
# chat.completion shape, the chat.completion.chunk stream ending with "data: [DONE]", the
# references as an extra field, errors; and the official OpenAI client library for Node.js
# (npm "openai", unmodified) completing a non-streaming and a streaming request.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/web_lib.sh"

web_sample_stack 2 chat.piece_interval_ms=5

msg='"messages": [{"role": "user", "content": "Berapa lama izin pengambilan air berlaku?"}]'
for srv in "${WEB_SERVERS[@]}"; do
    base=${BASE[$srv]}
    web_req plain "$base/v1/chat/completions" -H 'Content-Type: application/json' \
        --data-binary "{\"model\": \"m1\", $msg}"
    is "$srv: chat.completion with the answer, references added" \
        "$WEB_CODE $(jq -r '[.object, .model, (.id | startswith("chatcmpl-")), .choices[0].message.role, (.choices[0].message.content | length > 0), .choices[0].finish_reason, (.references | length > 0), (.usage | has("total_tokens"))] | map(tostring) | join(" ")' "$WEB_DIR/plain.body")" \
        "200 chat.completion m1 true assistant true stop true true"
    curl -sN -m 30 -H 'Content-Type: application/json' \
        --data-binary "{\"model\": \"m1\", \"stream\": true, $msg}" "$base/v1/chat/completions" >"$WEB_DIR/s.sse"
    is "$srv: the stream is data lines only, ending with [DONE]" \
        "$(grep -c '^event:' "$WEB_DIR/s.sse") $(grep '^data:' "$WEB_DIR/s.sse" | tail -n 1)" "0 data: [DONE]"
    is "$srv: chunks: the role first (with the references), content, then finish_reason stop" \
        "$(sed -n 's/^data: //p' "$WEB_DIR/s.sse" | grep -v '^\[DONE\]' | jq -s -r '[.[0].choices[0].delta.role, (.[0].references | length > 0), (.[1:-1] | all(.object == "chat.completion.chunk" and (.choices[0].delta.content | type) == "string")), .[-1].choices[0].finish_reason] | map(tostring) | join(" ")')" \
        "assistant true true stop"
    web_req bad "$base/v1/chat/completions" -H 'Content-Type: application/json' \
        --data-binary '{"model": "m1", "messages": "hi"}'
    is "$srv: messages not an array -> 400" "$WEB_CODE $(jq -r '.error.message | length > 0' "$WEB_DIR/bad.body")" "400 true"
    web_req bad2 "$base/v1/chat/completions" -H 'Content-Type: application/json' \
        --data-binary "{\"temperature\": 5, $msg}"
    is "$srv: temperature out of range -> 400" "$WEB_CODE" 400
done

# The official client library, where Node.js is there.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    skip "official OpenAI client library" "node/npm not installed"
else
    nd="$LX_ROOT/build/node-openai"
    if [ ! -d "$nd/node_modules/openai" ]; then
        mkdir -p "$nd"
        (cd "$nd" && timeout 300 npm install --silent --no-audit --no-fund openai@4 >"$WEB_DIR/npm.log" 2>&1)
    fi
    if [ ! -d "$nd/node_modules/openai" ]; then
        ok_if "npm installs the openai client library" 1
        sed 's/^/#   /' "$WEB_DIR/npm.log" | tail -n 10
    else
        cp "$LX_ROOT/tests/node/openai_client.mjs" "$nd/"
        for srv in "${WEB_SERVERS[@]}"; do
            out=$(timeout 60 node "$nd/openai_client.mjs" "${BASE[$srv]}/v1" 2>&1)
            is "$srv: the official OpenAI client completes a plain and a streaming request" \
                "$(jq -r '[.plain.object, .plain.finish, (.plain.content > 0), (.plain.references > 0), .stream.finish, (.stream.chunks > 2), (.stream.content > 0), (.stream.references > 0)] | map(tostring) | join(" ")' <<<"$out" 2>/dev/null || echo "$out")" \
                "chat.completion stop true true stop true true true"
        done
    fi
fi

web_finish
