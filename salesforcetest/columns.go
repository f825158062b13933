package salesforcetest

import (
	"net/http"
	"strings"

	"github.com/sfmtls/sfmtls/salesforcetest/internal/data"
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
var apexTypes = map[data.FieldType]string{
	data.TypeID: "Id", data.TypeReference: "Id", data.TypeString: "String",
	data.TypeTextArea: "String", data.TypePicklist: "String", data.TypeEmail: "String",
	data.TypePhone: "String", data.TypeURL: "String", data.TypeBoolean: "Boolean",
	data.TypeInt: "Integer", data.TypeDouble: "Double", data.TypeCurrency: "Decimal",
	data.TypePercent: "Double", data.TypeDate: "Date", data.TypeDateTime: "Datetime",
}

// writeColumns answers a columns=true query: the columns of the SELECT, the
// FROM object's name and key prefix, and whether Id is selected.
func (o *Org) writeColumns(w http.ResponseWriter, q *soqlengine.Query) {
	var (
		cols []soqlengine.Column
		err  error
		obj  *data.SObject
	)
	o.data.Read(func(rd *data.Reader) {
		cols, err = soqlengine.Columns(q, soqlSchema{rd})
		obj, _ = rd.Object(q.Object())
	})
	if err != nil {
		writeQueryError(w, err)
		return
	}
	out := make([]columnJSON, 0, len(cols))
	idSelected := false
	for _, c := range cols {
		j := columnOf(c)
		if c.Field != nil && len(c.Joins) == 0 {
			if f, ok := obj.Field(c.Field.Name); ok {
				j.Insertable, j.Updatable = data.Createable(f), data.Updateable(f)
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
		case data.TypeBoolean:
			j.BooleanType = true
		case data.TypeInt, data.TypeDouble, data.TypeCurrency, data.TypePercent:
			j.NumberType = true
		case data.TypeString, data.TypeTextArea, data.TypePicklist, data.TypeEmail,
			data.TypePhone, data.TypeURL:
			j.TextType = true
		}
	}
	return j
}
