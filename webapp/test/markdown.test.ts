import { describe, expect, it } from "vitest";

import { markdownToHtml, renderInline } from "../src/markdown";

describe("markdownToHtml", () => {
  it("renders headings, paragraphs and emphasis", () => {
    expect(markdownToHtml("## Section 1\n\nSome *emphasis*, **bold** and `a < b`.")).toBe(
      "<h2>Section 1</h2>\n<p>Some <em>emphasis</em>, <strong>bold</strong> and <code>a &lt; b</code>.</p>",
    );
  });

  it("keeps code literal in fences and code spans", () => {
    expect(markdownToHtml("```python\nif a < b:\n    print('<b>')\n```")).toBe(
      "<pre><code class=\"language-python\">if a &lt; b:\n    print('&lt;b&gt;')</code></pre>",
    );
    expect(renderInline("`**not bold**`")).toBe("<code>**not bold**</code>");
  });

  it("renders lists, quotes, rules and tables", () => {
    expect(markdownToHtml("- one\n- two\n  more")).toBe("<ul><li>one</li><li>two\nmore</li></ul>");
    expect(markdownToHtml("3. c\n4. d")).toBe('<ol start="3"><li>c</li><li>d</li></ol>');
    expect(markdownToHtml("> quoted *text*")).toBe("<blockquote><p>quoted <em>text</em></p></blockquote>");
    expect(markdownToHtml("---")).toBe("<hr>");
    expect(markdownToHtml("| a | b |\n|---|:-:|\n| 1 | 2 |")).toBe(
      "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>",
    );
  });

  it("escapes link and image addresses into attributes", () => {
    expect(renderInline('[x](http://e.org/"onmouseover="a)')).toBe('<a href="http://e.org/&quot;onmouseover=&quot;a">x</a>');
    expect(renderInline("![alt](data:image/png;base64,AAAA)")).toBe('<img src="data:image/png;base64,AAAA" alt="alt">');
  });

  it("does not treat snake_case or lone stars as emphasis", () => {
    expect(renderInline("value_one_two and 2 * 3 * 4")).toBe("value_one_two and 2 * 3 * 4");
  });

  it("passes raw HTML through for the sanitizer (it is not escaped here)", () => {
    expect(markdownToHtml('<img src=x onerror="alert(1)">')).toContain("<img src=x");
  });
});
