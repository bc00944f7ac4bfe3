// Deterministic mixed-text corpus for the tokenizer differential test and bench/tokens: code, prose in several
// scripts, emoji and ZWJ sequences, whitespace runs, digits, contractions, random code points and (optionally)
// invalid UTF-8 bytes. Same seed and size give the same bytes on every machine.

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const PROSE = {
  en: "the quick brown fox jumps over lazy dogs while engineers argue about tokenizers budgets limits and gateways".split(' '),
  fr: "été où français garçon déjà naïve cœur élève crème brûlée très bientôt".split(' '),
  de: "Straße Größe Übermäßig Fußgängerübergänge schön Mädchen Äpfel".split(' '),
  ru: "Привет мир Как дела Здравствуйте это мой первый раз здесь Что мне делать".split(' '),
  el: "Είναι μια ηλιόλουστη ημέρα στην Ελλάδα Διαβάζοντας βιβλία".split(' '),
  ar: "مرحبا بالعالم كيف حالك اليوم هذا نص عربي للاختبار".split(' '),
  he: "שלום עולם יש לי כמה שאלות בנוגע לפרויקט החדש".split(' '),
  hi: "नमस्ते दुनिया आप कैसे हैं हिन्दी में परीक्षण".split(' '),
  th: "สวัสดีชาวโลก ความรักและการเป็นกันเอง ภาษาไทย".split(' '),
  zh: "你好世界 今天遇到什么有趣的事情了吗 中文测试 分词器".split(' '),
  ja: "こんにちは世界 お元気ですか カタカナ ひらがな 漢字".split(' '),
  ko: "안녕하세요 세상 오늘 기분이 어때요 한국어".split(' '),
  vi: "Chào mừng bạn đến với thế giới của lập trình".split(' '),
  decomposed: ["e\u0301te\u0301", "n\u0303o", "A\u030Angstro\u0308m", "\u0915\u094D\u0937"],
};
const EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "🧑🏿‍💻", "👩‍⚕️", "☺️", "🫠", "⭐️", "🙂‍↔️"];
const CODE = [
  "int main(int argc, char** argv) {\n  return argc > 1 ? 0 : 1;\n}\n",
  "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text if c != ' ']\n",
  "const x = await fetch(`https://api.example.com/v1/chat?id=${id}`);\n",
  "for (let i = 0; i < 10; ++i) { sum += arr[i] * 0x1F; }\n",
  "SELECT user_id, COUNT(*) FROM requests WHERE ts >= '2024-01-01' GROUP BY 1;\n",
  "\t\tif err != nil {\n\t\t\treturn fmt.Errorf(\"read %s: %w\", path, err)\n\t\t}\n",
  "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi!\"}],\"max_tokens\":128}\n",
  "path/to/some/file.txt // comment\r\n#include <vector>\r\n",
];
const SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "    \n", "\u00A0", "\u3000", "\u2003 ", " \u0085", "\v\f"];
const CONTRACTIONS = ["don't", "I'M", "we'll", "they've", "it's", "O'Neil", "'s", "'LL", "you'RE", "'ſ", "rock'n'roll"];

function randomCodePoint(r) {
  for (;;) {
    const cp = Math.floor(r() * 0x110000);
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    return String.fromCodePoint(cp);
  }
}

function casing(r, w) {
  const k = r();
  if (k < 0.15) return w.toUpperCase();
  if (k < 0.35) return w.charAt(0).toUpperCase() + w.slice(1);
  if (k < 0.42) return w.split('').map((c, i) => (i % 3 === 1 ? c.toUpperCase() : c)).join('');
  return w;
}

// Returns a Buffer of at least `bytes` bytes. With invalidUtf8, about one segment in 200 is raw invalid bytes.
export function makeCorpus(bytes, { seed = 4, invalidUtf8 = false } = {}) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const parts = [];
  let size = 0;
  const push = (x) => {
    const b = typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
    parts.push(b);
    size += b.length;
  };
  const langs = Object.keys(PROSE);
  while (size < bytes) {
    const k = r();
    if (k < 0.45) {
      const words = PROSE[pick(langs)];
      const n = 3 + Math.floor(r() * 12);
      let s = '';
      for (let i = 0; i < n; ++i) s += (i ? (r() < 0.9 ? ' ' : pick(SPACES)) : '') + casing(r, pick(words));
      push(s + pick(['. ', ', ', '! ', '? ', '\n', '。', '…', ' - ']));
    } else if (k < 0.6) push(pick(CODE));
    else if (k < 0.68) push(pick(EMOJI) + (r() < 0.5 ? ' ' : ''));
    else if (k < 0.74) push(pick(SPACES).repeat(1 + Math.floor(r() * 4)));
    else if (k < 0.81) push(String(Math.floor(r() * 10 ** Math.floor(1 + r() * 12))) + pick([' ', ',', '.', '', '%', 'px']));
    else if (k < 0.86) push(pick(CONTRACTIONS) + pick([' ', '', '.']));
    else if (k < 0.93) {
      let s = '';
      const n = 1 + Math.floor(r() * 6);
      for (let i = 0; i < n; ++i) s += randomCodePoint(r);
      push(s + (r() < 0.5 ? "'s" : ' '));
    } else if (k < 0.97) push(pick(["!!!", "...", "---", "***", "==>", "/**/", "''", "\"\"", "${}", "??", "@#$%"]) + pick(["\n", "", " ", "/"]));
    else if (invalidUtf8 && k < 0.975) push(Buffer.from(pick([[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0x80, 0x80], [0xc0, 0xaf], [0xf5, 0x80]])));
    else push(pick(PROSE.en) + pick(SPACES) + pick(PROSE.zh));
  }
  return Buffer.concat(parts);
}
