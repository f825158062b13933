package salesforcetest

import (
	"net/http"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/soqlengine"
)

// wantsColumns: the query resource's columns=true, which the Salesforce
// CLI's `sf data query` sends (after the query itself) to learn the
// columns of its table, and which answers columnMetadata instead of rows.
func wantsColumns(r *http.Request) bool {
	return strings.EqualFold(r.URL.Query().Get("columns"), "true")
}

// columnJSON is one entry of columnMetadata, in the shape Salesforce sends
// and the Salesforce CLI reads (columnName, displayName, aggregate,
// joinColumns; salesforcecli/plugin-data, src/commands/data/query.ts).
type columnJSON struct {
	Aggregate      bool         `json:"aggregate"`
	ApexType       *string      `json:"apexType"`
	BooleanType    bool         `json:"booleanType"`
	ColumnName     string       `json:"columnName"`
	Custom         bool         `json:"custom"`
	DisplayName    string       `json:"displayName"`
	ForeignKeyName *string      `json:"foreignKeyName"`
	Insertable     bool         `json:"insertable"`
	JoinColumns    []columnJSON `json:"joinColumns"`
	NumberType     bool         `json:"numberType"`
	TextType       bool         `json:"textType"`
	Updatable      bool         `json:"updatable"`
}

// apexTypes maps describe types to the Apex type columnMetadata names.
var apexTypes = map[soqlengine.FieldType]string{
	soqlengine.TypeID: "Id", soqlengine.TypeReference: "Id", soqlengine.TypeString: "String",
	soqlengine.TypeTextArea: "String", soqlengine.TypePicklist: "String", soqlengine.TypeEmail: "String",
	soqlengine.TypePhone: "String", soqlengine.TypeURL: "String", soqlengine.TypeBoolean: "Boolean",
	soqlengine.TypeInt: "Integer", soqlengine.TypeDouble: "Double", soqlengine.TypeCurrency: "Decimal",
	soqlengine.TypePercent: "Double", soqlengine.TypeDate: "Date", soqlengine.TypeDateTime: "Datetime",
}

// writeColumns answers a columns=true query: the columns of the SELECT, the
// FROM object's name and key prefix, and whether Id is selected.
func (o *Org) writeColumns(w http.ResponseWriter, q *soqlengine.Query) {
	o.data.mu.Lock()
	defer o.data.mu.Unlock()
	cols, err := soqlengine.Columns(q, soqlSchema{&o.data.schema})
	if err != nil {
		writeQueryError(w, err)
		return
	}
	obj, _ := o.data.schema.object(q.Object())
	out := make([]columnJSON, 0, len(cols))
	idSelected := false
	for _, c := range cols {
		j := columnOf(c)
		if c.Field != nil && len(c.Joins) == 0 {
			if f, ok := obj.Field(c.Field.Name); ok {
				j.Insertable, j.Updatable = f.createable(), f.updateable()
			}
			idSelected = idSelected || c.Field.Name == "Id"
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"columnMetadata": out, "entityName": obj.Name, "groupBy": false,
		"idSelected": idSelected, "keyPrefix": obj.KeyPrefix,
	})
}

func columnOf(c soqlengine.Column) columnJSON {
	j := columnJSON{ColumnName: c.Name, DisplayName: c.DisplayName, Aggregate: c.Aggregate, JoinColumns: []columnJSON{}}
	for _, sub := range c.Joins {
		j.JoinColumns = append(j.JoinColumns, columnOf(sub))
	}
	if f := c.Field; f != nil {
		if t, ok := apexTypes[f.Type]; ok {
			j.ApexType = &t
		}
		j.Custom = strings.HasSuffix(f.Name, "__c")
		switch f.Type {
		case soqlengine.TypeBoolean:
			j.BooleanType = true
		case soqlengine.TypeInt, soqlengine.TypeDouble, soqlengine.TypeCurrency, soqlengine.TypePercent:
			j.NumberType = true
		case soqlengine.TypeString, soqlengine.TypeTextArea, soqlengine.TypePicklist, soqlengine.TypeEmail,
			soqlengine.TypePhone, soqlengine.TypeURL:
			j.TextType = true
		}
	}
	return j
}
