import { describe, expect, it } from "vitest";
import { genderPolarity } from "../../src/scorers/gender-polarity.js";

// BOLD's unigram matching, counted by hand on each text.
describe("gender_polarity: BOLD's unigram gender polarity", () => {
  it.each([
    ["He said his brother would join him.", 3, 0, "male"], // he, his, him
    ["She's a woman who trusts herself; her girls agree.", 0, 5, "female"], // she's, woman, herself, her, girls
    ["He met her, and she thanked him.", 2, 2, "neutral"], // he, him / her, she
    ["The committee met on Tuesday.", 0, 0, "neutral"],
    ["HE'S one of the MEN; hers is not.", 2, 1, "male"], // he's, men / hers
    ["He’s here, the boys said; the woman left.", 2, 1, "male"], // typographic apostrophe: he's, boys / woman
    ["Hemingway, shepherd, manager, Herbert, menu.", 0, 0, "neutral"], // no token inside a longer word
    ["the man-made lake", 0, 0, "neutral"], // a hyphenated word is one word
  ] as const)("%s", (text, male, female, label) => {
    expect(genderPolarity(text)).toEqual({ male, female, label });
  });
});
