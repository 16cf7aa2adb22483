package api

import (
	"net/http"
	"strings"

	"envoi/internal/auth"
	"envoi/internal/server"
)

// openAPI serves an OpenAPI 3.1 document built from the route table, so it
// can never list a route that does not exist or miss one that does.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	paths := map[string]map[string]any{}
	for _, rt := range a.table {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		op := map[string]any{
			"summary":   rt.Summary,
			"responses": map[string]any{"200": map[string]any{"description": "OK"}, "default": map[string]any{"$ref": "#/components/responses/Error"}},
		}
		switch rt.Access {
		case Public:
			op["security"] = []any{}
		case Member:
			op["x-envoi-right"] = map[string]string{"category": string(rt.Category), "level": rt.Level.String()}
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "envoi API", "version": "1"},
		"paths":   paths,
		"security": []any{
			map[string]any{"bearer": []any{}},
		},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses": map[string]any{"Error": map[string]any{
				"description": `{"error": {"code", "message", "field"}}`,
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object",
					"properties": map[string]any{"error": map[string]any{"type": "object", "properties": map[string]any{
						"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}, "field": map[string]any{"type": "string"},
					}}},
				}}},
			}},
		},
	}
	server.WriteJSON(w, http.StatusOK, doc)
}
