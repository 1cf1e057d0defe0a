package core

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// delegatedClaims are the claims of a token that agt_C got for agt_A from agt_B's
// delegated token: the nearest actor outermost (RFC 8693 §4.1).
func delegatedClaims(now time.Time) map[string]any {
	claims := validClaims(now)
	claims["sub"] = "agt_A"
	claims["client_id"] = "agt_C"
	claims["act"] = map[string]any{"sub": "agt_C", "act": map[string]any{"sub": "agt_B"}}
	claims["delegation_id"] = "dlg_2"
	return claims
}

// nestedActors is an act claim naming n actors, agt_1 outermost.
func nestedActors(n int) map[string]any {
	var act map[string]any
	for i := n; i >= 1; i-- {
		next := map[string]any{"sub": fmt.Sprintf("agt_%02d", i)}
		if act != nil {
			next["act"] = act
		}
		act = next
	}
	return act
}

func actVerifier(t *testing.T) (*Verifier, *testKeys, time.Time) {
	t.Helper()
	keys := newTestKeys(t)
	srv, _ := jwksServer(t, keys)
	now := time.Now()
	v, err := NewVerifier(VerifyOptions{Issuer: testIssuer, Audience: testAudience, BaseURL: srv.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v, keys, now
}

func TestVerifyReadsTheDelegationChain(t *testing.T) {
	v, keys, now := actVerifier(t)
	claims, err := v.Verify(context.Background(), keys.sign(t, "ES256", nil, delegatedClaims(now)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Actor{Sub: "agt_C", Act: &Actor{Sub: "agt_B"}}
	if !reflect.DeepEqual(claims.Act, want) || claims.DelegationID != "dlg_2" || claims.Subject != "agt_A" || claims.ClientID != "agt_C" {
		t.Fatalf("claims %+v, act %+v", claims, claims.Act)
	}
	if got := claims.Actors(); !reflect.DeepEqual(got, []string{"agt_C", "agt_B"}) {
		t.Fatalf("actors %v", got)
	}

	// One actor; other members of act (RFC 8693 allows e.g. iss) are ignored.
	one := validClaims(now)
	one["act"] = map[string]any{"sub": "agt_B", "iss": testIssuer}
	one["delegation_id"] = "dlg_1"
	claims, err = v.Verify(context.Background(), keys.sign(t, "EdDSA", nil, one))
	if err != nil {
		t.Fatal(err)
	}
	if got := claims.Actors(); !reflect.DeepEqual(got, []string{"agt_B"}) || claims.Act.Act != nil || claims.DelegationID != "dlg_1" {
		t.Fatalf("actors %v, act %+v", got, claims.Act)
	}

	// Ten actors, the most the verifier reads.
	ten := validClaims(now)
	ten["act"] = nestedActors(10)
	claims, err = v.Verify(context.Background(), keys.sign(t, "ES256", nil, ten))
	if err != nil {
		t.Fatal(err)
	}
	if got := claims.Actors(); len(got) != 10 || got[0] != "agt_01" || got[9] != "agt_10" {
		t.Fatalf("actors %v", got)
	}
}

func TestVerifyWithoutDelegation(t *testing.T) {
	v, keys, now := actVerifier(t)
	claims, err := v.Verify(context.Background(), keys.sign(t, "RS256", nil, validClaims(now)))
	if err != nil {
		t.Fatal(err)
	}
	if claims.Act != nil || claims.Actors() != nil || claims.DelegationID != "" {
		t.Fatalf("act %+v, actors %v, delegation %q", claims.Act, claims.Actors(), claims.DelegationID)
	}
}

func TestVerifyRefusesAMalformedAct(t *testing.T) {
	v, keys, now := actVerifier(t)
	cases := map[string]any{
		"a string":                 "agt_B",
		"an array":                 []any{map[string]any{"sub": "agt_B"}},
		"null":                     nil,
		"a number":                 7,
		"no sub":                   map[string]any{"client_id": "agt_B"},
		"a numeric sub":            map[string]any{"sub": 42},
		"an empty sub":             map[string]any{"sub": ""},
		"a null sub":               map[string]any{"sub": nil},
		"a nested string":          map[string]any{"sub": "agt_C", "act": "agt_B"},
		"a nested null":            map[string]any{"sub": "agt_C", "act": nil},
		"a nested act without sub": map[string]any{"sub": "agt_C", "act": map[string]any{"act": map[string]any{"sub": "agt_B"}}},
		"eleven actors":            nestedActors(11),
	}
	for name, act := range cases {
		t.Run(name, func(t *testing.T) {
			claims := delegatedClaims(now)
			claims["act"] = act
			got, err := v.Verify(context.Background(), keys.sign(t, "ES256", nil, claims))
			if got != nil || !errors.Is(err, ErrTokenMalformed) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("claims %+v, error %v", got, err)
			}
		})
	}
	claims := delegatedClaims(now)
	claims["delegation_id"] = 12
	if _, err := v.Verify(context.Background(), keys.sign(t, "ES256", nil, claims)); !errors.Is(err, ErrTokenMalformed) {
		t.Fatalf("numeric delegation_id: %v", err)
	}
}
