// tests/node/openai_client.mjs -- the official OpenAI client library (npm "openai"), unmodified,
// against lexrag's POST /v1/chat/completions: one non-streaming and one streaming request.
// Prints one JSON line: {"plain": {...}, "stream": {...}}; exits non-zero on any failure.
//   node openai_client.mjs BASE_URL      (BASE_URL like http://127.0.0.1:8080/v1)
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "not-needed", maxRetries: 0 });
const messages = [{ role: "user", content: "Berapa lama izin pengambilan air berlaku?" }];

const plain = await client.chat.completions.create({ model: "lexrag", messages });
const stream = await client.chat.completions.create({ model: "lexrag", messages, stream: true });
let text = "", chunks = 0, finish = null, refs = 0;
for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.references) refs = chunk.references.length;
}
console.log(JSON.stringify({
    plain: { object: plain.object, content: plain.choices[0].message.content.length,
             finish: plain.choices[0].finish_reason, references: (plain.references ?? []).length },
    stream: { chunks, content: text.length, finish, references: refs },
}));
