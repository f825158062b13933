package soqlengine

import (
	"fmt"
	"testing"
)

// BenchmarkExecute measures a typical org query over 10,000 accounts and
// 20,000 contacts: a filter, a parent path, a child subquery and a sort.
func BenchmarkExecute(b *testing.B) {
	data := testData{"User": newData()["User"]}
	for i := 0; i < 10000; i++ {
		acc := fmt.Sprintf("001%012dAAA", i)
		data["Account"] = append(data["Account"], map[string]any{
			"Id": acc, "IsDeleted": false, "Name": fmt.Sprintf("Account %05d", i), "NumberOfEmployees": float64(i % 500),
			"OwnerId": user2, "CreatedDate": "2024-03-01T00:00:00.000+0000",
		})
		for j := 0; j < 2; j++ {
			data["Contact"] = append(data["Contact"], map[string]any{
				"Id": fmt.Sprintf("003%012dAA%d", i, j), "IsDeleted": false, "LastName": fmt.Sprintf("L%d", j), "AccountId": acc,
			})
		}
	}
	q, err := Parse("SELECT Id, Name, Owner.Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WHERE NumberOfEmployees > 100 AND Name LIKE 'Account%' ORDER BY Name DESC LIMIT 2000")
	if err != nil {
		b.Fatal(err)
	}
	schema := newSchema()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Execute(q, schema, data, Options{Now: now, APIVersion: "65.0"})
		if err != nil || res.TotalSize != 2000 {
			b.Fatal(err, res.TotalSize)
		}
	}
}
