package htmlreport

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// svgOpen matches the opening <svg ...> tag vgsvg writes, capturing its
// viewBox.
var svgOpen = regexp.MustCompile(`(?s)<svg [^>]*viewBox="([^"]*)"[^>]*>`)

// fontFamily is the family gonum's Liberation Sans measures text with;
// Arial and Helvetica have the same metrics, so the page lays out the same
// where Liberation is not installed.
const fontFamily = "font-family:Liberation Sans;"

// renderSVG draws p on a w x h point canvas and returns the SVG element
// ready to inline in HTML: without the XML prolog and namespace URIs (an
// inline <svg> needs neither), sized by CSS through its viewBox, with a
// font fallback list and an accessible label.
func renderSVG(p *plot.Plot, w, h vg.Length, label string) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("render %s plot as SVG: %w", label, err)
	}
	out := buf.String()
	i := strings.Index(out, "<svg ")
	if i < 0 {
		return "", fmt.Errorf("render %s plot: gonum wrote no <svg> element", label)
	}
	out = out[i:]
	m := svgOpen.FindStringSubmatchIndex(out)
	if m == nil {
		return "", fmt.Errorf("render %s plot: unexpected <svg> tag from gonum", label)
	}
	open := fmt.Sprintf(`<svg viewBox="%s" role="img" aria-label="%s">`,
		out[m[2]:m[3]], template.HTMLEscapeString(label))
	out = open + out[m[1]:]
	out = strings.ReplaceAll(out, fontFamily, "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	return template.HTML(out), nil // gonum escapes every text it draws
}
