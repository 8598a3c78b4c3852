package main

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/nonroot-ls/nonroot-ls/diagnostics/dockerfile/imagecatalog"
)

// apkoImages are images built with apko, whose locked configuration (the apko YAML as
// resolved, per architecture) the repository holds: Chainguard's chainguard-images/images
// images/<name>/locked_config.json. apko builds no Dockerfile: the config's accounts.run-as
// is the image config's User, its paths are the directories it creates with their owner and
// mode.
type apkoImages struct {
	Repo     string   `json:"repo"`
	Commit   string   `json:"commit"`
	Registry string   `json:"registry"` // "cgr.dev/chainguard"
	Names    []string `json:"names"`
}

type apkoLock struct {
	ImageLocks map[string]struct {
		Configs    map[string]string `json:"configs"`
		DevConfigs map[string]string `json:"devConfigs"`
		Repo       string            `json:"repo"`
		Tags       []string          `json:"tags"`
	} `json:"imageLocks"`
}

type apkoConfig struct {
	Config struct {
		Accounts struct {
			RunAs string `json:"run-as"`
			Users []struct {
				Username string `json:"username"`
				UID      int    `json:"uid"`
				GID      int    `json:"gid"`
			} `json:"users"`
		} `json:"accounts"`
		Paths []struct {
			Path        string `json:"path"`
			Type        string `json:"type"`
			UID         int    `json:"uid"`
			GID         int    `json:"gid"`
			Permissions int    `json:"permissions"`
		} `json:"paths"`
		Volumes []string `json:"volumes"`
	} `json:"config"`
}

// apkoPlans reads the locked configurations into finished plans, one per image.
func (g *generator) apkoPlans(a apkoImages) error {
	for _, name := range a.Names {
		p := path.Join("images", name, "locked_config.json")
		b, err := g.m.read(a.Repo, a.Commit, p)
		if err != nil {
			return err
		}
		var lock apkoLock
		if err := json.Unmarshal(b, &lock); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		repo := a.Registry + "/" + name
		pl := &plan{name: repo, repos: []string{repo}, done: true}
		src := imagecatalog.Source{Repo: a.Repo, Commit: a.Commit, Path: p, Role: "dockerfile"}
		for _, key := range sortedKeysAny(lock.ImageLocks) {
			l := lock.ImageLocks[key]
			for _, dev := range []bool{false, true} {
				cfgs := l.Configs
				if dev {
					cfgs = l.DevConfigs
				}
				raw := cfgs["index"]
				if raw == "" {
					raw = cfgs["amd64"]
				}
				if raw == "" {
					continue
				}
				var c apkoConfig
				if err := json.Unmarshal([]byte(raw), &c); err != nil {
					return fmt.Errorf("%s: %s: %v", p, key, err)
				}
				e, err := apkoEntry(c, src)
				if err != nil {
					return fmt.Errorf("%s: %s: %v", p, key, err)
				}
				e.Repositories = pl.repos
				for _, t := range l.Tags {
					if dev {
						t += "-dev"
					}
					if t = strings.ToLower(t); !tagTaken(pl.entries, t) && !contains(e.Tags, t) {
						e.Tags = append(e.Tags, t)
					}
				}
				if len(e.Tags) == 0 {
					continue
				}
				e.Example = repo + ":" + e.Tags[0]
				e.Default = !dev && len(pl.entries) == 0
				if dev {
					e.Why += " (the -dev variant)"
				}
				pl.entries = append(pl.entries, e)
			}
		}
		if len(pl.entries) == 0 {
			return fmt.Errorf("%s: no image", p)
		}
		g.add(pl)
	}
	return nil
}

func apkoEntry(c apkoConfig, src imagecatalog.Source) (*imagecatalog.Entry, error) {
	acc := c.Config.Accounts
	e := &imagecatalog.Entry{Sources: []imagecatalog.Source{src}}
	runAs := acc.RunAs
	e.User.Config = runAs
	if e.User.Root() {
		z := 0
		e.User.UID, e.User.Name = &z, "root"
		e.Why = "apko accounts.run-as " + strconv.Quote(runAs) + ": root"
	} else {
		n, err := strconv.Atoi(runAs)
		for _, u := range acc.Users {
			if err == nil && u.UID == n || err != nil && u.Username == runAs {
				uid := u.UID
				e.User.UID = &uid
				e.User.Name = u.Username
				gid := u.GID
				e.User.GID = &gid
			}
		}
		if err != nil && e.User.UID == nil {
			return nil, fmt.Errorf("run-as %q is not an account of the image", runAs)
		}
		e.Why = fmt.Sprintf("apko accounts.run-as %q (user %s, uid %d)", runAs, e.User.Name, *e.User.UID)
	}
	f := &facts{User: e.User}
	for _, p := range c.Config.Paths {
		if p.Type != "directory" || !strings.HasPrefix(p.Path, "/") {
			continue
		}
		uid, gid := p.UID, p.GID
		f.Paths = append(f.Paths, imagecatalog.Path{Path: path.Clean(p.Path), UID: &uid, GID: &gid, Mode: fmt.Sprintf("%04o", p.Permissions&0o7777)})
	}
	for _, v := range c.Config.Volumes {
		f.Paths = append(f.Paths, imagecatalog.Path{Path: path.Clean(v), Volume: true})
	}
	e.Paths = f.Paths
	e.OpenShift = openShift(f)
	return e, nil
}

func sortedKeysAny[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
