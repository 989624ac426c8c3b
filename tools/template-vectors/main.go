// Command template-vectors renders every case of cases.yaml with External Secrets Operator's own
// template engine (github.com/external-secrets/external-secrets/pkg/template/v2: Go's text/template,
// Masterminds sprig v3 and ESO's certificate helpers) and writes what it produced as test vectors.
// The TypeScript engine in src/template/ must produce the same bytes for every vector
// (test/unit/template-vectors.test.ts). Run it through `npm run template-vectors`.
//
//	template-vectors -cases cases.yaml -out ../../test/fixtures/template-vectors.json
//	template-vectors -vectors ../../test/fixtures/template-vectors.json -verify-ts ts-outputs.json
//
// The second form checks outputs that are random by design (PKCS#12 salts and IVs), which the
// TypeScript engine rendered: ESO's own pkcs12key/pkcs12cert must read them back to the same key
// and certificates, so that a keystore made by this operator opens wherever ESO's would.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	esotemplate "github.com/external-secrets/external-secrets/pkg/template/v2"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
)

// One case as written in cases.yaml.
type caseSpec struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Template string `yaml:"template"`
	// Values given as text, as base64 bytes, and as files under testdata/.
	Data       map[string]string `yaml:"data"`
	Data64     map[string]string `yaml:"data64"`
	Files      map[string]string `yaml:"files"`
	NoDefaults bool              `yaml:"noDefaults"`
	// The expected error: a part of ESO's message that the TypeScript engine's must contain too.
	Error string `yaml:"error"`
	// Output that differs between runs by design, and how to verify it instead of comparing bytes.
	Check *check `yaml:"check"`
	// Where this operator deliberately differs from ESO; the vector records both.
	TS *divergence `yaml:"ts"`
}

type check struct {
	// bcrypt: the output is "user:hash" and the hash verifies the password.
	// pkcs12: the output is a base64 PKCS#12 file that opens with the password to Key and Certs.
	Kind     string `yaml:"kind" json:"kind"`
	User     string `yaml:"user" json:"user,omitempty"`
	Password string `yaml:"password" json:"password"`
	Key      string `yaml:"-" json:"key,omitempty"`
	Certs    string `yaml:"-" json:"certs,omitempty"`
}

type divergence struct {
	Why   string `yaml:"why" json:"why"`
	Error string `yaml:"error" json:"error,omitempty"`
}

type casesFile struct {
	// Values every case sees unless it sets noDefaults.
	Defaults map[string]string `yaml:"defaults"`
	Cases    []caseSpec        `yaml:"cases"`
}

type vectorError struct {
	Contains string `json:"contains"`
	Go       string `json:"go"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

type vector struct {
	Name     string            `json:"name"`
	Key      string            `json:"key"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
	Output   *string           `json:"output,omitempty"`
	Error    *vectorError      `json:"error,omitempty"`
	Check    *check            `json:"check,omitempty"`
	TS       *divergence       `json:"ts,omitempty"`
}

type vectorsFile struct {
	Comment   string            `json:"comment"`
	Generator map[string]string `json:"generator"`
	Vectors   []vector          `json:"vectors"`
}

func main() {
	casesPath := flag.String("cases", "cases.yaml", "cases to render")
	outPath := flag.String("out", "", "where to write the vectors")
	vectorsPath := flag.String("vectors", "", "vectors to verify TypeScript outputs against")
	verifyPath := flag.String("verify-ts", "", "TypeScript outputs of the check cases to verify")
	flag.Parse()
	registerExtensions()
	var err error
	if *verifyPath != "" {
		err = verifyTS(*vectorsPath, *verifyPath)
	} else {
		err = generate(*casesPath, *outPath)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "template-vectors:", err)
		os.Exit(1)
	}
}

// registerExtensions adds the functions this operator offers beyond ESO's, with their reference
// implementation, to the function map ESO's engine executes with (FuncMap returns that very map).
func registerExtensions() {
	// Helm's `required` (helm.sh/helm/v3/pkg/engine/funcs.go): an error when the value is nil or "".
	esotemplate.FuncMap()["required"] = func(warn string, val any) (any, error) {
		if val == nil {
			return val, errors.New(warn)
		} else if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
}

// render runs ESO's engine exactly as an ExternalSecret with target.template.data would.
func render(key, template string, data map[string][]byte) ([]byte, error) {
	secret := &corev1.Secret{}
	err := esotemplate.Execute(map[string][]byte{key: []byte(template)}, data, esv1.TemplateScopeValues, esv1.TemplateTargetData, secret)
	if err != nil {
		return nil, err
	}
	return secret.Data[key], nil
}

func generate(casesPath, outPath string) error {
	raw, err := os.ReadFile(casesPath)
	if err != nil {
		return err
	}
	var file casesFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return fmt.Errorf("%s: %w", casesPath, err)
	}
	base := filepath.Dir(casesPath)
	seen := map[string]bool{}
	var vectors []vector
	var failures []string
	for i, c := range file.Cases {
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("case %d: missing or duplicate name %q", i, c.Name)
		}
		seen[c.Name] = true
		v, err := vectorFor(c, file.Defaults, base)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", c.Name, err))
			continue
		}
		vectors = append(vectors, v)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d cases failed:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	out := vectorsFile{
		Comment:   "Generated by tools/template-vectors (npm run template-vectors) from tools/template-vectors/cases.yaml; do not edit.",
		Generator: generatorInfo(),
		Vectors:   vectors,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if outPath == "" {
		_, err = os.Stdout.Write(buf.Bytes())
		return err
	}
	fmt.Fprintf(os.Stderr, "template-vectors: %d vectors written to %s\n", len(vectors), outPath)
	return os.WriteFile(outPath, buf.Bytes(), 0o644)
}

func generatorInfo() map[string]string {
	info := map[string]string{"go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			switch dep.Path {
			case "github.com/external-secrets/external-secrets", "github.com/Masterminds/sprig/v3",
				"software.sslmate.com/src/go-pkcs12", "github.com/lestrrat-go/jwx/v2", "sigs.k8s.io/yaml":
				info[dep.Path] = dep.Version
			}
		}
	}
	return info
}

var positionPattern = regexp.MustCompile(`template: ([^:]+):(\d+)(?::(\d+))?: `)

func vectorFor(c caseSpec, defaults map[string]string, base string) (vector, error) {
	key := c.Key
	if key == "" {
		key = "out"
	}
	data := map[string][]byte{}
	if !c.NoDefaults {
		for k, v := range defaults {
			data[k] = []byte(v)
		}
	}
	for k, v := range c.Data {
		data[k] = []byte(v)
	}
	for k, v := range c.Data64 {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return vector{}, fmt.Errorf("data64 %s: %w", k, err)
		}
		data[k] = b
	}
	for k, name := range c.Files {
		b, err := os.ReadFile(filepath.Join(base, "testdata", name))
		if err != nil {
			return vector{}, err
		}
		data[k] = b
	}
	v := vector{Name: c.Name, Key: key, Template: c.Template, Data: map[string]string{}, TS: c.TS}
	for k, b := range data {
		v.Data[k] = base64.StdEncoding.EncodeToString(b)
	}

	out, err := render(key, c.Template, data)
	if err != nil {
		message := err.Error()
		if c.Error == "" {
			return v, fmt.Errorf("unexpected error: %s", message)
		}
		if !strings.Contains(message, c.Error) {
			return v, fmt.Errorf("error %q does not contain %q", message, c.Error)
		}
		v.Error = &vectorError{Contains: c.Error, Go: message}
		if m := positionPattern.FindStringSubmatch(message); m != nil && m[1] == key {
			v.Error.Line, _ = strconv.Atoi(m[2])
			if m[3] != "" {
				v.Error.Column, _ = strconv.Atoi(m[3])
			}
		}
		return v, nil
	}
	if c.Error != "" {
		return v, fmt.Errorf("expected an error containing %q, got output %q", c.Error, out)
	}
	encoded := base64.StdEncoding.EncodeToString(out)
	v.Output = &encoded

	if c.Check == nil {
		// Every exact vector must be reproducible: a second and third run give the same bytes.
		for range 2 {
			again, err := render(key, c.Template, data)
			if err != nil || !bytes.Equal(again, out) {
				return v, errors.New("output differs between runs; add a check or make the template deterministic")
			}
		}
		return v, nil
	}
	chk := *c.Check
	switch chk.Kind {
	case "bcrypt":
		user, hash, ok := strings.Cut(string(out), ":")
		if !ok || user != chk.User {
			return v, fmt.Errorf("htpasswd output is not %s:hash", chk.User)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(chk.Password)); err != nil {
			return v, fmt.Errorf("bcrypt check: %w", err)
		}
	case "pkcs12":
		key, certs, err := openPKCS12(out, chk.Password)
		if err != nil {
			return v, err
		}
		chk.Key, chk.Certs = key, certs
	default:
		return v, fmt.Errorf("unknown check kind %q", chk.Kind)
	}
	v.Check = &chk
	return v, nil
}

// openPKCS12 reads a base64 PKCS#12 file back with ESO's own pkcs12keyPass and pkcs12certPass.
func openPKCS12(b64 []byte, password string) (key, certs string, err error) {
	data := map[string][]byte{"pfx": b64, "password": []byte(password)}
	k, err := render("key", `{{ .pfx | b64dec | pkcs12keyPass .password }}`, data)
	if err != nil {
		return "", "", fmt.Errorf("reading the PKCS#12 key back: %w", err)
	}
	c, err := render("certs", `{{ .pfx | b64dec | pkcs12certPass .password }}`, data)
	if err != nil {
		return "", "", fmt.Errorf("reading the PKCS#12 certificates back: %w", err)
	}
	return string(k), string(c), nil
}

type tsOutput struct {
	Name   string `json:"name"`
	Output string `json:"output"`
}

func verifyTS(vectorsPath, outputsPath string) error {
	var vf vectorsFile
	if err := readJSON(vectorsPath, &vf); err != nil {
		return err
	}
	var outputs []tsOutput
	if err := readJSON(outputsPath, &outputs); err != nil {
		return err
	}
	byName := map[string]vector{}
	for _, v := range vf.Vectors {
		byName[v.Name] = v
	}
	var names []string
	var failures []string
	for _, o := range outputs {
		v, ok := byName[o.Name]
		if !ok || v.Check == nil || v.Check.Kind != "pkcs12" {
			failures = append(failures, o.Name+": not a pkcs12 check vector")
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(o.Output)
		if err != nil {
			failures = append(failures, o.Name+": output is not base64")
			continue
		}
		key, certs, err := openPKCS12(raw, v.Check.Password)
		switch {
		case err != nil:
			failures = append(failures, fmt.Sprintf("%s: %v", o.Name, err))
		case key != v.Check.Key:
			failures = append(failures, o.Name+": ESO reads a different key from the TypeScript keystore")
		case certs != v.Check.Certs:
			failures = append(failures, o.Name+": ESO reads different certificates from the TypeScript keystore")
		default:
			names = append(names, o.Name)
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("TypeScript keystores ESO cannot read:\n  %s", strings.Join(failures, "\n  "))
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "template-vectors: ESO opens the %d keystores the TypeScript engine made: %s\n", len(names), strings.Join(names, ", "))
	return nil
}

func readJSON(path string, into any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}
