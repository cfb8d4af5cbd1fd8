package dashboard

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
)

// pageView is what every page's template gets.
type pageView struct {
	Lang    string // "zh-CN" or "en"
	T       map[string]string
	Title   string
	User    string
	UserLng string // the user's own setting ("" follows the browser)
	CSRF    string
	Path    string // for "back" after changing the language
	Nav     []navItem
	Flash   string
	Error   string
	Refresh bool // reload every 2 s when scripts are off (a running upload)
	Data    any
}

// lang is "zh" or "en": the user's setting, else the browser's.
func (d *Dashboard) lang(r *http.Request, s *signedIn) string {
	if s == nil {
		s = sessionOf(r)
	}
	if s != nil && s.Language != "" {
		return shortLang(s.Language)
	}
	return acceptLang(r.Header.Get("Accept-Language"))
}

func shortLang(l string) string {
	if strings.HasPrefix(strings.ToLower(l), "zh") {
		return "zh"
	}
	return "en"
}

// acceptLang picks zh or en from Accept-Language, in the browser's order.
func acceptLang(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

func (d *Dashboard) view(r *http.Request, title string, data any) pageView {
	s := sessionOf(r)
	lang := d.lang(r, s)
	v := pageView{Lang: map[string]string{"zh": "zh-CN", "en": "en"}[lang], T: texts[lang], Title: title, Data: data, Path: r.URL.RequestURI()}
	if s != nil {
		v.User, v.UserLng, v.CSRF = s.Login, s.Language, s.csrf
		v.Nav = d.nav(r, lang)
	}
	if msg := r.URL.Query().Get("done"); msg != "" {
		v.Flash = v.T["done."+msg] // only known messages; nothing from the URL is shown
	}
	return v
}

// render writes a page; data is the page's own part (.Data).
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, code int, page, title string, data any) {
	d.renderView(w, code, page, d.view(r, title, data))
}

func (d *Dashboard) renderView(w http.ResponseWriter, code int, page string, v pageView) {
	t, ok := d.pages[page]
	if !ok {
		d.cfg.Log.Error("dashboard: no such page", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		d.cfg.Log.Error("dashboard: rendering a page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// Frame draws content inside the dashboard (header, navigation, sign-out):
// for pages added with Config.Pages. content must be safe HTML.
func (d *Dashboard) Frame(w http.ResponseWriter, r *http.Request, title string, content template.HTML) {
	d.render(w, r, http.StatusOK, "frame", title, content)
}

// fail logs an error and shows a short message; no details reach the user.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	d.cfg.Log.Error("dashboard", "path", r.URL.Path, "err", err)
	http.Error(w, texts[d.lang(r, nil)]["failed"], http.StatusInternalServerError)
}
