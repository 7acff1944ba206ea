// Command cosig-go checks schemas/vectors/cosignatures.json with an independent
// implementation of C2SP cosignature/v1: github.com/transparency-dev/formats/note (the
// witness verifier of the transparency-dev project) and golang.org/x/mod/sumdb/note (the
// Go checksum database's signed notes).
//
// Usage: go run . ../../schemas/vectors/cosignatures.json
//
// It prints {"checked": N, "failures": [...], "signed": {...}} and exits 1 when a vector's
// verdict differs; "signed" holds, for each witness, the first vector's checkpoint as a
// note cosigned by the formats package's own cosignature/v1 signer with that witness's
// key (the caller checks those with its own verifier).
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

type witness struct {
	Name    string `json:"name"`
	Vkey    string `json:"vkey"`
	SeedHex string `json:"private_seed_hex"`
}

type vector struct {
	Name   string `json:"name"`
	Note   string `json:"note"`
	Expect struct {
		Valid     bool     `json:"valid"`
		Witnesses []string `json:"witnesses"`
	} `json:"expect"`
}

type document struct {
	LogVkey   string             `json:"log_vkey"`
	Time      int64              `json:"time"`
	Witnesses map[string]witness `json:"witnesses"`
	Vectors   []vector           `json:"vectors"`
}

func check(d document, v vector, verifiers note.Verifiers, short map[string]string) error {
	n, err := note.Open([]byte(v.Note), verifiers)
	if !v.Expect.Valid {
		if err == nil {
			return fmt.Errorf("opened, want a refusal")
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("refused: %v", err)
	}
	got := []string{}
	for _, s := range n.Sigs {
		name, ok := short[s.Name]
		if !ok {
			continue // the log's own signature
		}
		ts, err := fnote.CoSigV1Timestamp(s)
		if err != nil || ts.Unix() != d.Time {
			return fmt.Errorf("%s: timestamp %v (%v), want %d", name, ts, err, d.Time)
		}
		got = append(got, name)
	}
	if !slices.Equal(got, v.Expect.Witnesses) {
		return fmt.Errorf("verified witnesses %v, want %v", got, v.Expect.Witnesses)
	}
	return nil
}

// sign cosigns the first vector's checkpoint with a witness's seed, as the formats
// package's cosignature/v1 signer does (its own clock gives the timestamp).
func sign(d document, w witness) (string, error) {
	seed, err := hex.DecodeString(w.SeedHex)
	if err != nil {
		return "", err
	}
	v, err := fnote.NewVerifierForCosignatureV1(w.Vkey)
	if err != nil {
		return "", err
	}
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", w.Name, v.KeyHash(),
		base64.StdEncoding.EncodeToString(append([]byte{0x04}, seed...)))
	signer, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		return "", err
	}
	logV, err := note.NewVerifier(d.LogVkey)
	if err != nil {
		return "", err
	}
	n, err := note.Open([]byte(d.Vectors[0].Note), note.VerifierList(logV))
	if err != nil {
		return "", err
	}
	out, err := note.Sign(&note.Note{Text: n.Text}, signer)
	return string(out), err
}

func run(path string) (int, []string, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, nil, err
	}
	var d document
	if err := json.Unmarshal(data, &d); err != nil {
		return 0, nil, nil, err
	}
	logV, err := note.NewVerifier(d.LogVkey)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("log vkey: %v", err)
	}
	list := []note.Verifier{logV}
	short := map[string]string{}
	for s, w := range d.Witnesses {
		v, err := fnote.NewVerifierForCosignatureV1(w.Vkey)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("witness %s vkey: %v", s, err)
		}
		list = append(list, v)
		short[w.Name] = s
	}
	verifiers := note.VerifierList(list...)
	failures := []string{}
	for _, v := range d.Vectors {
		if err := check(d, v, verifiers, short); err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", v.Name, err))
		}
	}
	signed := map[string]string{}
	for s, w := range d.Witnesses {
		if signed[s], err = sign(d, w); err != nil {
			return 0, nil, nil, fmt.Errorf("witness %s: signing: %v", s, err)
		}
	}
	return len(d.Vectors), failures, signed, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cosig-go cosignatures.json")
		os.Exit(2)
	}
	checked, failures, signed, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cosig-go:", err)
		os.Exit(2)
	}
	out, _ := json.Marshal(map[string]any{"checked": checked, "failures": failures, "signed": signed})
	fmt.Println(string(out))
	if len(failures) > 0 {
		os.Exit(1)
	}
}
