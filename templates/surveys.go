package templates

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// SurveyLinks gives a rendering the candidate's personal survey links.
type SurveyLinks interface {
	// Link is the personal link to a survey; score, when not nil,
	// preselects that score on the page.
	Link(survey string, score *int) (string, error)
	// Scale is the range of the survey's score question.
	Scale(survey string) (min, max int, err error)
}

// ErrNoSurveyLinks is returned when a template asks for a survey link and
// the project has no web server to answer it (no http section).
var ErrNoSurveyLinks = errors.New("survey links need the web server: add an http section (public_url, secret_env) to the config")

// Template functions for surveys:
//
//	[填写问卷]({{survey "declined-offer"}})   a personal link
//	{{survey_scale "nps"}}                    the score as clickable links: 0 · 1 · … · 10
//
// At parse time they are stand-ins; each rendering binds them to the
// candidate's links.
var surveyFuncs = template.FuncMap{
	"survey":       func(string) (string, error) { return "", ErrNoSurveyLinks },
	"survey_scale": func(string) (string, error) { return "", ErrNoSurveyLinks },
}

func boundFuncs(links SurveyLinks) template.FuncMap {
	if links == nil {
		return surveyFuncs
	}
	return template.FuncMap{
		"survey": func(name string) (string, error) { return links.Link(name, nil) },
		"survey_scale": func(name string) (string, error) {
			lo, hi, err := links.Scale(name)
			if err != nil {
				return "", err
			}
			var parts []string
			for n := lo; n <= hi; n++ {
				score := n
				u, err := links.Link(name, &score)
				if err != nil {
					return "", err
				}
				parts = append(parts, fmt.Sprintf("[%d](%s)", n, u))
			}
			return strings.Join(parts, " · "), nil
		},
	}
}

// collectSurveys records the survey names a template tree calls for.
func collectSurveys(tree *parse.Tree, out map[string]bool) {
	walkTree(tree.Root, func(n parse.Node) {
		c, ok := n.(*parse.CommandNode)
		if !ok || len(c.Args) != 2 {
			return
		}
		if id, ok := c.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "survey" || id.Ident == "survey_scale") {
			if s, ok := c.Args[1].(*parse.StringNode); ok {
				out[s.Text] = true
			}
		}
	})
}
