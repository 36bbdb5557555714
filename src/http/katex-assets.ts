// KaTeX's stylesheet and fonts (woff2, which every browser that renders the page reads), embedded
// like the other assets. The stylesheet names its fonts by relative path; they are served under
// hashed URLs, so its url()s are rewritten to those when the assets are loaded.

import amsRegular from "katex/dist/fonts/KaTeX_AMS-Regular.woff2" with { type: "file" };
import caligraphicBold from "katex/dist/fonts/KaTeX_Caligraphic-Bold.woff2" with { type: "file" };
import caligraphicRegular from "katex/dist/fonts/KaTeX_Caligraphic-Regular.woff2" with { type: "file" };
import frakturBold from "katex/dist/fonts/KaTeX_Fraktur-Bold.woff2" with { type: "file" };
import frakturRegular from "katex/dist/fonts/KaTeX_Fraktur-Regular.woff2" with { type: "file" };
import mainBold from "katex/dist/fonts/KaTeX_Main-Bold.woff2" with { type: "file" };
import mainBoldItalic from "katex/dist/fonts/KaTeX_Main-BoldItalic.woff2" with { type: "file" };
import mainItalic from "katex/dist/fonts/KaTeX_Main-Italic.woff2" with { type: "file" };
import mainRegular from "katex/dist/fonts/KaTeX_Main-Regular.woff2" with { type: "file" };
import mathBoldItalic from "katex/dist/fonts/KaTeX_Math-BoldItalic.woff2" with { type: "file" };
import mathItalic from "katex/dist/fonts/KaTeX_Math-Italic.woff2" with { type: "file" };
import sansSerifBold from "katex/dist/fonts/KaTeX_SansSerif-Bold.woff2" with { type: "file" };
import sansSerifItalic from "katex/dist/fonts/KaTeX_SansSerif-Italic.woff2" with { type: "file" };
import sansSerifRegular from "katex/dist/fonts/KaTeX_SansSerif-Regular.woff2" with { type: "file" };
import scriptRegular from "katex/dist/fonts/KaTeX_Script-Regular.woff2" with { type: "file" };
import size1Regular from "katex/dist/fonts/KaTeX_Size1-Regular.woff2" with { type: "file" };
import size2Regular from "katex/dist/fonts/KaTeX_Size2-Regular.woff2" with { type: "file" };
import size3Regular from "katex/dist/fonts/KaTeX_Size3-Regular.woff2" with { type: "file" };
import size4Regular from "katex/dist/fonts/KaTeX_Size4-Regular.woff2" with { type: "file" };
import typewriterRegular from "katex/dist/fonts/KaTeX_Typewriter-Regular.woff2" with { type: "file" };
import cssPath from "katex/dist/katex.min.css" with { type: "file" };

/** The fonts by file name, as the stylesheet names them. */
export const KATEX_FONTS: Record<string, string> = {
  "KaTeX_AMS-Regular.woff2": amsRegular,
  "KaTeX_Caligraphic-Bold.woff2": caligraphicBold,
  "KaTeX_Caligraphic-Regular.woff2": caligraphicRegular,
  "KaTeX_Fraktur-Bold.woff2": frakturBold,
  "KaTeX_Fraktur-Regular.woff2": frakturRegular,
  "KaTeX_Main-Bold.woff2": mainBold,
  "KaTeX_Main-BoldItalic.woff2": mainBoldItalic,
  "KaTeX_Main-Italic.woff2": mainItalic,
  "KaTeX_Main-Regular.woff2": mainRegular,
  "KaTeX_Math-BoldItalic.woff2": mathBoldItalic,
  "KaTeX_Math-Italic.woff2": mathItalic,
  "KaTeX_SansSerif-Bold.woff2": sansSerifBold,
  "KaTeX_SansSerif-Italic.woff2": sansSerifItalic,
  "KaTeX_SansSerif-Regular.woff2": sansSerifRegular,
  "KaTeX_Script-Regular.woff2": scriptRegular,
  "KaTeX_Size1-Regular.woff2": size1Regular,
  "KaTeX_Size2-Regular.woff2": size2Regular,
  "KaTeX_Size3-Regular.woff2": size3Regular,
  "KaTeX_Size4-Regular.woff2": size4Regular,
  "KaTeX_Typewriter-Regular.woff2": typewriterRegular,
};

export const KATEX_CSS = cssPath;

/** KaTeX's stylesheet with each font's url()s (woff2, woff, ttf) replaced by the woff2's URL here. */
export function katexCss(css: string, fontUrls: Record<string, string>): string {
  const rewritten = css.replace(
    /src:url\(fonts\/([\w-]+\.woff2)\) format\("woff2"\)(?:,url\([^)]*\) format\("[^"]*"\))*/g,
    (whole, file: string) => (fontUrls[file] ? `src:url(${fontUrls[file]}) format("woff2")` : whole),
  );
  // Fails at start rather than serving a stylesheet whose fonts 404 (a KaTeX update that renamed them).
  if (rewritten.includes("url(fonts/")) throw new Error("KaTeX's stylesheet names a font that is not embedded");
  return rewritten;
}
