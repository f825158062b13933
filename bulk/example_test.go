package bulk_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sfmtls/sfmtls/bulk"
)

type Account struct {
	ID        string    `json:"Id,omitempty"`
	Name      string    `json:"Name"`
	Employees *int      `json:"NumberOfEmployees,omitempty"`
	Since     time.Time `json:"Since__c" sf:"Since__c,date"`
}

func ExampleEncoder() {
	n := 30
	accounts := []Account{
		{Name: "Acme, Inc.", Employees: &n, Since: time.Date(2001, 2, 3, 0, 0, 0, 0, time.UTC)},
		{ID: "001xx000003DGb2AAG", Name: "Globex"}, // update: Employees untouched, Since set to null
	}
	e, err := bulk.NewEncoder[Account](os.Stdout, bulk.Format{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range accounts {
		if err := e.Encode(a); err != nil {
			fmt.Println(err)
		}
	}
	if err := e.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Id,Name,NumberOfEmployees,Since__c
	// ,"Acme, Inc.",30,2001-02-03
	// 001xx000003DGb2AAG,Globex,,#N/A
}

func ExampleDecoder() {
	results := "sf__Id,sf__Created,Name,NumberOfEmployees\n" +
		"001xx000003DGb1AAG,true,\"Acme, Inc.\",30\n"
	d, err := bulk.NewDecoder[bulk.IngestResult[Account]](strings.NewReader(results), bulk.Format{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for r, err := range d.All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.ID, r.Created, r.Record.Name, *r.Record.Employees)
	}
	// Output: 001xx000003DGb1AAG true Acme, Inc. 30
}
