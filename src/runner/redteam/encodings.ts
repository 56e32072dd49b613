// Character-level encodings used by obfuscation attacks (Wei et al., 2023, "Jailbroken": base64, ROT13,
// leetspeak; Morse and homoglyphs are common variants). Pure functions, each with its inverse, so a test can
// decode every attack back to its goal. Where an encoding loses information its inverse says what.

export function base64Encode(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
export function base64Decode(text: string): string {
  return Buffer.from(text, "base64").toString("utf8");
}

/** ROT13 of ASCII letters; its own inverse. */
export function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (letter) => {
    const base = letter <= "Z" ? 65 : 97;
    return String.fromCharCode(((letter.charCodeAt(0) - base + 13) % 26) + base);
  });
}

const LEET: Record<string, string> = { a: "4", e: "3", i: "1", o: "0", s: "5", t: "7" };
const UNLEET = Object.fromEntries(Object.entries(LEET).map(([letter, digit]) => [digit, letter]));
/** Lower case, then a→4 e→3 i→1 o→0 s→5 t→7. */
export function leetEncode(text: string): string {
  return text.toLowerCase().replace(/[aeiost]/g, (letter) => LEET[letter]!);
}
/** The inverse on lower-case text without the digits 0 1 3 4 5 7 (those read back as letters). */
export function leetDecode(text: string): string {
  return text.replace(/[013457]/g, (digit) => UNLEET[digit]!);
}

// Latin letters and the Cyrillic letters drawn the same in most fonts.
const HOMOGLYPHS: Record<string, string> = {
  a: "\u0430",
  c: "\u0441",
  e: "\u0435",
  i: "\u0456",
  o: "\u043e",
  p: "\u0440",
  x: "\u0445",
  y: "\u0443",
  s: "\u0455",
  A: "\u0410",
  B: "\u0412",
  C: "\u0421",
  E: "\u0415",
  H: "\u041d",
  K: "\u041a",
  M: "\u041c",
  O: "\u041e",
  P: "\u0420",
  T: "\u0422",
  X: "\u0425",
};
const LATIN = Object.fromEntries(Object.entries(HOMOGLYPHS).map(([latin, cyrillic]) => [cyrillic, latin]));
export function homoglyphEncode(text: string): string {
  return Array.from(text, (character) => HOMOGLYPHS[character] ?? character).join("");
}
/** The inverse on text with no Cyrillic letters of its own. */
export function homoglyphDecode(text: string): string {
  return Array.from(text, (character) => LATIN[character] ?? character).join("");
}

const MORSE: Record<string, string> = {
  a: ".-",
  b: "-...",
  c: "-.-.",
  d: "-..",
  e: ".",
  f: "..-.",
  g: "--.",
  h: "....",
  i: "..",
  j: ".---",
  k: "-.-",
  l: ".-..",
  m: "--",
  n: "-.",
  o: "---",
  p: ".--.",
  q: "--.-",
  r: ".-.",
  s: "...",
  t: "-",
  u: "..-",
  v: "...-",
  w: ".--",
  x: "-..-",
  y: "-.--",
  z: "--..",
  "0": "-----",
  "1": ".----",
  "2": "..---",
  "3": "...--",
  "4": "....-",
  "5": ".....",
  "6": "-....",
  "7": "--...",
  "8": "---..",
  "9": "----.",
  ".": ".-.-.-",
  ",": "--..--",
  "?": "..--..",
  "'": ".----.",
  "!": "-.-.--",
  "/": "-..-.",
  "(": "-.--.",
  ")": "-.--.-",
  "&": ".-...",
  ":": "---...",
  ";": "-.-.-.",
  "=": "-...-",
  "+": ".-.-.",
  "-": "-....-",
  _: "..--.-",
  '"': ".-..-.",
  $: "...-..-",
  "@": ".--.-.",
};
const FROM_MORSE = Object.fromEntries(Object.entries(MORSE).map(([character, code]) => [code, character]));
/**
 * International Morse code: letters apart by a space, words by " / ". A character without a code (an
 * accented letter, an emoji) stays as it is, as its own letter.
 */
export function morseEncode(text: string): string {
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== "")
    .map((word) => Array.from(word, (character) => MORSE[character] ?? character).join(" "))
    .join(" / ");
}
/** The inverse up to case and spacing: lower case, words apart by one space. */
export function morseDecode(text: string): string {
  return text
    .trim()
    .split(" / ")
    .map((word) =>
      word
        .split(" ")
        .filter((code) => code !== "")
        .map((code) => FROM_MORSE[code] ?? code)
        .join(""),
    )
    .join(" ");
}
