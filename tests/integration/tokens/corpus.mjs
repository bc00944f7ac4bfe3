// Deterministic mixed-text corpus for the tokenizer differential test and bench/tokens. Words are drawn with a
// Zipf law (s = 1.07) from large per-language vocabularies (a few hundred real frequent words, then ~60,000
// generated ones built from the language's letters/syllables), so the text has the long tail of real text and
// a piece cache cannot make it repetitive. Segments: English prose with contractions; prose in 13 other
// scripts (Latin with diacritics, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Han, kana, Hangul, Vietnamese,
// decomposed marks); code in five languages with identifiers made from the vocabulary; JSON; Markdown; numbers,
// dates, hex, UUIDs; emoji incl. skin tones, flags and ZWJ sequences; whitespace runs; a little of random code
// points and (optionally) invalid UTF-8 bytes. Same seed and size give the same bytes on every machine.

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const split = (s) => s.split(' ');
const range = (lo, hi) => { const a = []; for (let c = lo; c <= hi; ++c) a.push(String.fromCodePoint(c)); return a; };

// head: frequent real words (Zipf ranks 0..head.length-1); units + parts: how the tail words are generated.
const LANGS = {
  en: {
    head: split("the of and to a in is it you that he was for on are with as I his they be at one have this from or had by " +
      "not word but what some we can out other were all there when up use your how said an each she which do their " +
      "time if will way about many then them write would like so these her long make thing see him two has look more " +
      "day could go come did number sound no most people my over know water than call first who may down side been now " +
      "find any new work part take get place made live where after back little only round man year came show every good " +
      "me give our under name very through just form sentence great think say help low line differ turn cause much mean " +
      "before move right boy old too same tell does set three want air well also play small end put home read hand port " +
      "large spell add even land here must big high such follow act why ask men change went light kind off need house " +
      "picture try us again animal point mother world near build self earth father don't it's I'm we'll they've you're " +
      "can't won't isn't that's there's let's request gateway token model latency error budget limit user server cache"),
    units: split("b c d f g h j k l m n p r s t v w st tr pl gr br ch sh th qu str sp cl ph wh"),
    vowels: split("a e i o u ea ou io ai ee oo y"),
    codas: split(" n r s t l nd st ng ck rt ll ss nt rd ght tion ment ness ing ed er ly"),
  },
  de: { head: split("der die und in den von zu das mit sich des auf für ist im dem nicht ein Die eine als auch es an werden aus er hat daß sie nach wird bei einer Der um am sind noch wie einem über einen Das so Sie zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei In Straße Größe Mädchen Äpfel schön Übermäßig Fußgängerübergänge"),
    units: split("b d f g h k l m n p r s t w z sch st sp pf ch kr tr gr br"), vowels: split("a e i o u ä ö ü ei au ie eu"), codas: split(" n r s t l ng ch ck rt nd st ß tz lich ung heit keit en er") },
  fr: { head: split("de la le et les des en un du une que est pour qui dans a par plus pas au sur ne se Le ce il sont La Les ou avec son Il aux d'un En cette d'une ont ses mais comme on tout nous sa Elle été où français garçon déjà naïve cœur élève crème brûlée très bientôt l'homme c'est qu'il"),
    units: split("b c d f g j l m n p r s t v ch qu tr pr br gr pl"), vowels: split("a e i o u é è ê ou ai eau oi an on in"), codas: split(" n r s t l x nt rs mment tion té eur ère") },
  es: { head: split("de la que el en y a los del se las por un para con no una su al lo como más pero sus le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos año años niño mañana corazón"),
    units: split("b c d f g j l m n p r s t v ll ch rr tr pr br gr pl ñ"), vowels: split("a e i o u á é í ó ú ia ue io"), codas: split(" n r s l d z ción dad mente ando ido") },
  ru: { head: split("и в не на я быть он с что а по это она этот к но они мы как из у который то за свой что весь год от так о для ты же все тот мочь вы человек такой его сказать только или ещё бы себя один как уже до время если сам когда другой Привет мир Здравствуйте"),
    units: split("б в г д ж з к л м н п р с т ф х ц ч ш щ ст пр тр кр"), vowels: split("а е и о у ы э ю я ё"), codas: split(" н р с т л й ть ный ние ски ова ого ами") },
  el: { head: split("και το να η του της με που τα σε την ο για από τον δεν οι θα είναι στο τη στην των ένα στη στα μια τους αλλά ότι στον Είναι ηλιόλουστη ημέρα Ελλάδα Διαβάζοντας βιβλία"),
    units: split("β γ δ ζ θ κ λ μ ν ξ π ρ σ τ φ χ ψ στ πρ"), vowels: split("α ε η ι ο υ ω ά έ ή ί ό ύ ώ ου αι ει"), codas: split(" ς ν ρ σ ντ ση μα ται ους") },
  ar: { head: split("في من على أن إلى التي عن لا ما هذا الذي كان مع هذه أو بين كل قد ذلك بعد عام حتى لم إن ثم وقد مرحبا بالعالم كيف حالك اليوم نص عربي للاختبار"),
    units: split("ب ت ث ج ح خ د ذ ر ز س ش ص ض ط ظ ع غ ف ق ك ل م ن ه و ي ال"), vowels: split("ا و ي َ ُ ِ"), codas: split(" ة ات ين ون ية ها هم") },
  he: { head: split("את של על לא הוא זה עם כי גם היה מה אני כל אבל או יש אם היא רק אל בין שלום עולם שאלות בנוגע לפרויקט החדש"),
    units: split("ב ג ד ה ו ז ח ט י כ ל מ נ ס ע פ צ ק ר ש ת"), vowels: split("א ו י ה"), codas: split(" ם ן ך ף ץ ים ות ה") },
  hi: { head: split("के है में की और से को का एक यह पर हैं भी लिए ने कि नहीं तो था इस कर हो गया जो साथ नमस्ते दुनिया आप कैसे हिन्दी परीक्षण"),
    units: split("क ख ग घ च ज झ ट ड त थ द ध न प फ ब भ म य र ल व श स ह क्ष प्र"), vowels: split("ा ि ी ु ू े ै ो ौ ं  "), codas: split(" न र त ता ने ना ों ें") },
  th: { head: split("ที่ และ ใน การ ของ เป็น ได้ มี ไม่ ว่า ให้ จะ กับ นี้ แต่ ก็ คน สวัสดี ชาวโลก ความรัก ภาษาไทย"),
    units: split("ก ข ค ง จ ช ซ ด ต ถ ท น บ ป ผ พ ฟ ม ย ร ล ว ส ห อ"), vowels: split("ะ า ิ ี ึ ื ุ ู เ แ โ ั ่ ้"), codas: split(" ก ง น ม ย ว ด บ") },
  zh: { head: split("的 一 是 不 了 在 人 有 我 他 这 个 们 中 来 上 大 为 和 国 地 到 以 说 时 要 就 出 会 可 也 你 对 生 能 而 子 那 得 于 着 下 自 之 年 过 发 后 作 里 你好 世界 今天 事情 中文 测试 分词器"),
    han: true },
  ja: { head: split("の に は を た が で て と し れ さ ある いる も する から な こと として い や れる など なっ ない この ため その あっ よう また もの という あり まで られ なる へ か だ これ によって こんにちは 世界 お元気ですか カタカナ ひらがな 漢字"),
    units: range(0x3041, 0x3093).concat(range(0x30a1, 0x30f3)), vowels: [''], codas: [''] },
  ko: { head: split("이 의 가 에 는 을 를 은 고 하 다 로 한 도 와 안녕하세요 세상 오늘 기분이 어때요 한국어"), hangul: true },
  vi: { head: split("của và là có không những được người một trong cho các với này đã đến khi để thế giới lập trình Chào mừng bạn"),
    units: split("b c d đ g h k l m n p r s t v x ch gi kh ng nh ph qu th tr"), vowels: split("a ă â e ê i o ô ơ u ư y à á ả ã ạ ế ề ể ộ ờ ứ"), codas: split(" c m n p t ch ng nh") },
  decomposed: { head: ["e\u0301te\u0301", "n\u0303o", "A\u030Angstro\u0308m", "\u0915\u094D\u0937", "Cafe\u0301", "a\u0308o\u0308u\u0308"],
    units: split("b c d f g l m n r s t"), vowels: ["a\u0301", "e\u0300", "o\u0308", "u\u0302", "i\u0303", "a", "e", "o"], codas: ['', 'n', 's'] },
};

const VOCABULARY = 60000;
const ZIPF_S = 1.07;
let zipfCdf = null;
function zipfRank(r) {
  if (!zipfCdf) {
    zipfCdf = new Float64Array(VOCABULARY);
    let sum = 0;
    for (let k = 0; k < VOCABULARY; ++k) { sum += 1 / (k + 1) ** ZIPF_S; zipfCdf[k] = sum; }
    for (let k = 0; k < VOCABULARY; ++k) zipfCdf[k] /= sum;
  }
  const u = r();
  let lo = 0, hi = VOCABULARY - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (zipfCdf[mid] < u) lo = mid + 1; else hi = mid; }
  return lo;
}

// The word of Zipf rank `rank` in lang: the same on every call (generated from a generator seeded by the rank).
const wordCache = new Map();
function vocabularyWord(langName, rank) {
  const lang = LANGS[langName];
  if (rank < lang.head.length) return lang.head[rank];
  const key = langName + rank;
  let w = wordCache.get(key);
  if (w !== undefined) return w;
  const g = rng(rank * 2654435761 + langName.length * 97 + langName.charCodeAt(0));
  const pick = (a) => a[Math.floor(g() * a.length)];
  const syllables = 1 + Math.floor(g() * g() * 5);
  w = '';
  if (lang.han) for (let i = 0; i <= syllables % 4; ++i) w += String.fromCodePoint(0x4e00 + Math.floor(g() * g() * 0x5000));
  else if (lang.hangul) for (let i = 0; i <= syllables % 4; ++i) w += String.fromCodePoint(0xac00 + Math.floor(g() * 11172));
  else {
    for (let i = 0; i < syllables; ++i) w += (i || g() < 0.8 ? pick(lang.units) : '') + pick(lang.vowels);
    w += pick(lang.codas);
  }
  wordCache.set(key, w);
  return w;
}

function casing(r, w) {
  const k = r();
  if (k < 0.03) return w.toUpperCase();
  if (k < 0.15) return w.charAt(0).toUpperCase() + w.slice(1);
  if (k < 0.16) return w.split('').map((c, i) => (i % 3 === 1 ? c.toUpperCase() : c)).join('');
  return w;
}

const EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "🧑🏿‍💻", "👩‍⚕️", "☺️", "🫠", "⭐️", "🙂‍↔️", "✅", "🚀", "🔥", "👀", "🎉"];
const SKIN = ["", "", "\u{1F3FB}", "\u{1F3FC}", "\u{1F3FD}", "\u{1F3FE}", "\u{1F3FF}"];
const SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "    \n", "\u00A0", "\u3000", "\u2003 ", " \u0085", "\v\f"];
const CONTRACTIONS = ["don't", "I'M", "we'll", "they've", "it's", "O'Neil", "'s", "'LL", "you'RE", "'ſ", "rock'n'roll", "Let's", "ISN'T"];
const SYMBOLS = ["!!!", "...", "---", "***", "==>", "/**/", "''", "\"\"", "${}", "??", "@#$%", "->", "=>", "::", "<=", "||", "&&", "~/"];
const PUNCT = {
  zh: ['，', '。', '：', '！', '？', '、'], ja: ['、', '。', '「', '」'], th: [' ', ' ', ''], ar: ['، ', '. ', '؟ '],
  default: ['. ', ', ', '! ', '? ', '; ', ': ', '\n', ' - ', '… ', ' (', ') '],
};
const NO_SPACE = new Set(['zh', 'ja', 'th']);

function randomCodePoint(r) {
  for (;;) {
    const cp = Math.floor(r() * 0x110000);
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    return String.fromCodePoint(cp);
  }
}

function number(r) {
  const k = r();
  if (k < 0.35) return String(Math.floor(r() * 10 ** Math.floor(1 + r() * 9)));
  if (k < 0.5) return (r() * 1000).toFixed(1 + Math.floor(r() * 3));
  if (k < 0.62) return `20${10 + Math.floor(r() * 16)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
  if (k < 0.72) return '0x' + Math.floor(r() * 2 ** 32).toString(16).toUpperCase();
  if (k < 0.8) return `${Math.floor(r() * 4)}.${Math.floor(r() * 30)}.${Math.floor(r() * 200)}`;
  if (k < 0.88) { const h = () => Math.floor(r() * 2 ** 32).toString(16).padStart(8, '0'); return `${h()}-${h().slice(4)}-4${h().slice(5)}-a${h().slice(5)}-${h()}${h().slice(4)}`; }
  return '+1 (' + Math.floor(100 + r() * 900) + ') ' + Math.floor(100 + r() * 900) + '-' + Math.floor(1000 + r() * 9000);
}

// An identifier from 1-3 English vocabulary words in one of the usual casings, sometimes with a digit suffix.
function identifier(r) {
  const n = 1 + Math.floor(r() * 3);
  const words = [];
  for (let i = 0; i < n; ++i) words.push(vocabularyWord('en', zipfRank(r)).replace(/'/g, '').toLowerCase() || 'x');
  const k = r();
  let id;
  if (k < 0.35) id = words[0] + words.slice(1).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  else if (k < 0.65) id = words.join('_');
  else if (k < 0.85) id = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  else id = words.join('_').toUpperCase();
  return r() < 0.1 ? id + Math.floor(r() * 100) : id;
}

function sentence(r, langName, n) {
  const punct = PUNCT[langName] || PUNCT.default;
  const glue = NO_SPACE.has(langName) ? '' : ' ';
  let s = '';
  for (let i = 0; i < n; ++i) {
    let w = vocabularyWord(langName, zipfRank(r));
    if (!NO_SPACE.has(langName)) w = casing(r, w);
    s += (i ? (r() < 0.97 ? glue : SPACES[Math.floor(r() * SPACES.length)]) : '') + w;
    if (i + 1 < n && r() < 0.06) s += punct[Math.floor(r() * punct.length)].trimEnd();
  }
  return s + punct[Math.floor(r() * punct.length)];
}

function codeBlock(r) {
  const id = () => identifier(r);
  const str = () => sentence(r, 'en', 1 + Math.floor(r() * 5)).replace(/["\\\n\r]/g, '').trim();
  const indent = ['  ', '    ', '\t', '        '][Math.floor(r() * 4)];
  const lines = [];
  const n = 2 + Math.floor(r() * 8);
  const lang = Math.floor(r() * 6);
  for (let i = 0; i < n; ++i) {
    const depth = indent.repeat(Math.floor(r() * 3));
    const k = r();
    if (lang === 0) {  // C++
      if (k < 0.3) lines.push(`${depth}const auto ${id()} = ${id()}.${id()}(${id()}, ${number(r)});`);
      else if (k < 0.5) lines.push(`${depth}if (${id()} != nullptr && ${id()}->${id()} >= ${Math.floor(r() * 1000)}) {`);
      else if (k < 0.7) lines.push(`${depth}// ${str()}`);
      else if (k < 0.85) lines.push(`${depth}std::vector<${id()}> ${id()};`);
      else lines.push(`${depth}}`);
    } else if (lang === 1) {  // Python
      if (k < 0.3) lines.push(`${depth}${id()} = ${id()}.${id()}(${id()}=${number(r)})`);
      else if (k < 0.5) lines.push(`${depth}def ${id()}(self, ${id()}: int, ${id()}: str = "${str()}") -> list[str]:`);
      else if (k < 0.7) lines.push(`${depth}# ${str()}`);
      else if (k < 0.85) lines.push(`${depth}for ${id()} in range(${Math.floor(r() * 100)}):`);
      else lines.push(`${depth}return ${id()}`);
    } else if (lang === 2) {  // JavaScript / TypeScript
      if (k < 0.3) lines.push(`${depth}const ${id()} = await ${id()}.${id()}(\`/v1/${id()}?id=\${${id()}}\`);`);
      else if (k < 0.5) lines.push(`${depth}export function ${id()}(${id()}: ${['string', 'number', 'boolean'][Math.floor(r() * 3)]}) {`);
      else if (k < 0.7) lines.push(`${depth}/** ${str()} */`);
      else if (k < 0.85) lines.push(`${depth}for (let i = 0; i < ${id()}.length; ++i) ${id()} += ${id()}[i] * ${number(r)};`);
      else lines.push(`${depth}});`);
    } else if (lang === 3) {  // Go
      if (k < 0.3) lines.push(`${depth}${id()}, err := ${id()}.${id()}(ctx, ${id()})`);
      else if (k < 0.6) lines.push(`${depth}if err != nil {\n${depth}${indent}return fmt.Errorf("${str()}: %w", err)\n${depth}}`);
      else lines.push(`${depth}// ${str()}`);
    } else if (lang === 4) {  // SQL
      lines.push(`SELECT ${id()}, COUNT(*) AS ${id()} FROM ${id()} WHERE ${id()} >= '${number(r)}' GROUP BY 1 ORDER BY 2 DESC;`);
    } else {  // JSON
      const fields = [];
      for (let f = 1 + Math.floor(r() * 5); f > 0; --f)
        fields.push(`"${id()}":${r() < 0.5 ? `"${str()}"` : number(r).replace(/[^0-9.]/g, '') || '0'}`);
      lines.push(`{${fields.join(r() < 0.5 ? ',' : ', ')}}`);
    }
  }
  return lines.join(r() < 0.1 ? '\r\n' : '\n') + '\n';
}

function markdown(r) {
  const k = r();
  if (k < 0.3) return `${'#'.repeat(1 + Math.floor(r() * 3))} ${sentence(r, 'en', 2 + Math.floor(r() * 5)).trim()}\n\n`;
  if (k < 0.6) return `- **${identifier(r)}**: ${sentence(r, 'en', 3 + Math.floor(r() * 10)).trim()}\n`;
  if (k < 0.8) return `| ${identifier(r)} | ${number(r)} | ${number(r)} |\n`;
  return `[${sentence(r, 'en', 2).trim()}](https://${identifier(r).toLowerCase()}.example.com/${identifier(r)}) `;
}

const OTHER_LANGS = Object.keys(LANGS).filter((l) => l !== 'en');

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
  while (size < bytes) {
    const k = r();
    if (k < 0.36) push(sentence(r, 'en', 4 + Math.floor(r() * 20)) + (r() < 0.2 ? '\n\n' : ''));
    else if (k < 0.52) push(sentence(r, pick(OTHER_LANGS), 3 + Math.floor(r() * 15)) + (r() < 0.2 ? '\n' : ' '));
    else if (k < 0.66) push(codeBlock(r));
    else if (k < 0.72) push(markdown(r));
    else if (k < 0.77) push(pick(EMOJI) + (r() < 0.3 ? '' : pick(SKIN)) + (r() < 0.5 ? ' ' : ''));
    else if (k < 0.81) push(pick(SPACES).repeat(1 + Math.floor(r() * 4)));
    else if (k < 0.88) push(number(r) + pick([' ', ',', '.', '', '%', 'px', ' ms', '\n']));
    else if (k < 0.91) push(pick(CONTRACTIONS) + pick([' ', '', '.']));
    else if (k < 0.93) {
      let s = '';
      const n = 1 + Math.floor(r() * 6);
      for (let i = 0; i < n; ++i) s += randomCodePoint(r);
      push(s + (r() < 0.5 ? "'s" : ' '));
    } else if (k < 0.97) push(pick(SYMBOLS) + pick(["\n", "", " ", "/"]));
    else if (invalidUtf8 && k < 0.975) push(Buffer.from(pick([[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0x80, 0x80], [0xc0, 0xaf], [0xf5, 0x80]])));
    else push(vocabularyWord('en', zipfRank(r)) + pick(SPACES) + vocabularyWord('zh', zipfRank(r)));
  }
  return Buffer.concat(parts);
}
