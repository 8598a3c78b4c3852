package text

import "testing"

func TestLines(t *testing.T) {
	src := "a\r\nbé\rc\n\n𝄞x"
	l := NewLines(src)
	want := []string{"a", "bé", "c", "", "𝄞x"}
	if l.Count() != len(want) {
		t.Fatalf("Count = %d, want %d", l.Count(), len(want))
	}
	for i, w := range want {
		if got := l.Line(i); got != w {
			t.Errorf("Line(%d) = %q, want %q", i, got, w)
		}
	}
	if l.EOL() != "\r\n" || l.Terminator(1) != "\r" || l.Terminator(4) != "" {
		t.Errorf("terminators: %q %q %q", l.EOL(), l.Terminator(1), l.Terminator(4))
	}
	// 𝄞 is 4 bytes, 2 UTF-16 units, 1 rune.
	p := Pos{Line: 4, Col: 4}
	if got := l.ToUTF16(p); got != 2 {
		t.Errorf("ToUTF16 = %d, want 2", got)
	}
	if got := l.FromUTF16(4, 2); got != p {
		t.Errorf("FromUTF16 = %v, want %v", got, p)
	}
	if got := l.FromUTF16(4, 1); got != (Pos{4, 0}) { // inside the surrogate pair
		t.Errorf("FromUTF16 inside pair = %v", got)
	}
	if got := l.FromUTF16(4, 99); got != (Pos{4, 5}) {
		t.Errorf("FromUTF16 past end = %v", got)
	}
	if got := l.FromRunes(1, 2); got != (Pos{1, 3}) {
		t.Errorf("FromRunes = %v", got)
	}
	for off := 0; off <= len(src); off++ {
		p := l.PosAt(off)
		if back := l.Offset(p); back != off && !(src[off-1] == '\r' && src[off] == '\n') {
			t.Errorf("Offset(PosAt(%d)) = %d", off, back)
		}
	}
}

func TestApplyAndDiff(t *testing.T) {
	src := "FROM x\r\nUSER root\r\nCMD [\"é\"]\r\n"
	out, err := Apply(src, []Edit{
		{Range: Range{Pos{1, 5}, Pos{1, 9}}, NewText: "10001:0"},
		{Range: Range{Pos{0, 0}, Pos{0, 0}}, NewText: "# syntax\r\n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "# syntax\r\nFROM x\r\nUSER 10001:0\r\nCMD [\"é\"]\r\n"
	if out != want {
		t.Fatalf("Apply = %q", out)
	}
	if _, err := Apply(src, []Edit{{Range: Range{Pos{0, 0}, Pos{0, 4}}}, {Range: Range{Pos{0, 2}, Pos{0, 5}}}}); err == nil {
		t.Error("overlapping edits accepted")
	}
	for _, c := range [][2]string{
		{src, want},
		{"a\r\nb", "a\r\nc\r\nb"},
		{"a\nb\n", "a\nb\n"},
		{"ééé", "éèé"},
		{"x\r\n", "x\r\ny\r\n"},
	} {
		got, err := Apply(c[0], Diff(c[0], c[1]))
		if err != nil || got != c[1] {
			t.Errorf("Apply(Diff(%q,%q)) = %q, %v", c[0], c[1], got, err)
		}
	}
}

func FuzzDiff(f *testing.F) {
	f.Add("a\r\nb", "a\r\nc\r\nb")
	f.Add("é", "è")
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := Apply(a, Diff(a, b))
		if err != nil || got != b {
			t.Fatalf("Apply(Diff(%q,%q)) = %q, %v", a, b, got, err)
		}
	})
}

// TestLinesWithoutCR covers the index of texts whose lines all end in "\n".
func TestLinesWithoutCR(t *testing.T) {
	for src, want := range map[string][]string{
		"":          {""},
		"a":         {"a"},
		"a\n":       {"a", ""},
		"\n\nbé\nc": {"", "", "bé", "c"},
	} {
		l := NewLines(src)
		if l.Count() != len(want) {
			t.Fatalf("%q: Count = %d, want %d", src, l.Count(), len(want))
		}
		off := 0
		for i, w := range want {
			if l.Line(i) != w || l.Start(i) != off {
				t.Errorf("%q: line %d = %q at %d, want %q at %d", src, i, l.Line(i), l.Start(i), w, off)
			}
			off += len(w) + 1
		}
		if l.Start(len(want)) != l.Start(len(want)-1) || l.Start(-1) != 0 {
			t.Errorf("%q: Start out of range not clamped", src)
		}
	}
}
