package surveys

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Answers are one response: question id → int (scale), string (single,
// text) or []string (multi). A chosen "other" option's text is kept under
// "<question>.other".
type Answers map[string]any

// MaxText bounds a free-text answer.
const MaxText = 2000

// FromForm reads and checks a submitted form. Problems are per question
// (shown next to it, with the answers kept); an empty map means valid.
func (s *Survey) FromForm(form url.Values, lang string) (Answers, map[string]string) {
	a := Answers{}
	problems := map[string]string{}
	msg := func(zh, en string) string {
		if strings.HasPrefix(lang, "zh") {
			return zh
		}
		return en
	}
	for _, q := range s.Questions {
		vals := form[q.ID]
		for _, v := range vals {
			if !utf8.ValidString(v) {
				problems[q.ID] = msg("内容包含无法识别的字符", "The answer contains characters that could not be read")
			}
		}
		if problems[q.ID] != "" {
			continue
		}
		var nonEmpty []string
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				nonEmpty = append(nonEmpty, v)
			}
		}
		if len(nonEmpty) == 0 {
			if q.Required {
				problems[q.ID] = msg("请回答这个问题", "Please answer this question")
			}
			continue
		}
		switch q.Kind {
		case Scale:
			n, err := strconv.Atoi(nonEmpty[0])
			if err != nil || n < q.Min || n > q.Max || len(nonEmpty) > 1 {
				problems[q.ID] = msg(fmt.Sprintf("请选择 %d 到 %d 之间的分数", q.Min, q.Max), fmt.Sprintf("Choose a score from %d to %d", q.Min, q.Max))
				continue
			}
			a[q.ID] = n
		case Single:
			if len(nonEmpty) > 1 || !q.hasOption(nonEmpty[0]) {
				problems[q.ID] = msg("请选择一个选项", "Choose one of the options")
				continue
			}
			a[q.ID] = nonEmpty[0]
		case Multi:
			seen := map[string]bool{}
			var picked []string
			for _, v := range nonEmpty {
				if !q.hasOption(v) {
					problems[q.ID] = msg("请从列表中选择", "Choose from the list")
					break
				}
				if !seen[v] {
					seen[v] = true
					picked = append(picked, v)
				}
			}
			if problems[q.ID] != "" {
				continue
			}
			a[q.ID] = picked
		case Free:
			text := nonEmpty[0]
			if utf8.RuneCountInString(text) > MaxText {
				problems[q.ID] = msg(fmt.Sprintf("请控制在 %d 字以内", MaxText), fmt.Sprintf("Please keep it under %d characters", MaxText))
				continue
			}
			a[q.ID] = text
		}
		// The free text of a chosen "other" option.
		for _, o := range q.Options {
			if o.Other && chose(a[q.ID], o.ID) {
				if t := strings.TrimSpace(form.Get(q.ID + ".other")); t != "" && utf8.ValidString(t) {
					if utf8.RuneCountInString(t) > MaxText {
						problems[q.ID] = msg(fmt.Sprintf("请控制在 %d 字以内", MaxText), fmt.Sprintf("Please keep it under %d characters", MaxText))
					} else {
						a[q.ID+".other"] = t
					}
				}
			}
		}
	}
	return a, problems
}

func chose(v any, id string) bool {
	switch v := v.(type) {
	case string:
		return v == id
	case []string:
		for _, x := range v {
			if x == id {
				return true
			}
		}
	}
	return false
}

// Score is the answer to the first scale question, if any.
func (s *Survey) Score(a Answers) (int, bool) {
	q, ok := s.ScaleQuestion()
	if !ok {
		return 0, false
	}
	n, ok := a[q.ID].(int)
	return n, ok
}
