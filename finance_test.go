package sharpapi

import (
	"context"
	"testing"
)

func TestFinance(t *testing.T) {
	invoice := []byte("%PDF-1.7 invoice D7BDFA00-0019")
	testJobs(t, []jobCase{{
		name: "ParseInvoice", path: "/finance/parse_invoice", typ: JobTypeInvoiceParse,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ParseInvoice(ctx, ParseInvoiceParams{File: FileFromBytes("invoice.pdf", invoice)}))
		},
		parts: []formPart{{Name: "file", FileName: "invoice.pdf", Content: string(invoice)}},
		want:  ParseInvoiceResult{Documents: []Invoice{openAIInvoice}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ParseInvoice(ctx, ParseInvoiceParams{Language: "English"}))
		},
		missing: "ParseInvoiceParams.File",
	}, {
		name: "ParseInvoice/language", path: "/finance/parse_invoice", typ: JobTypeInvoiceParse,
		call: func(ctx context.Context, c *Client) (started, error) {
			return start(c.ParseInvoice(ctx, ParseInvoiceParams{File: FileFromBytes("invoice.pdf", invoice), Language: "German"}))
		},
		parts: []formPart{
			{Name: "language", Content: "German"},
			{Name: "file", FileName: "invoice.pdf", Content: string(invoice)},
		},
		want: ParseInvoiceResult{Documents: []Invoice{openAIInvoice}},
		invalid: func(ctx context.Context, c *Client) error {
			return errOf(c.ParseInvoice(ctx, ParseInvoiceParams{File: FileFromReader("invoice.pdf", nil)}))
		},
		missing: "ParseInvoiceParams.File",
	}})
}

// openAIInvoice is the document of testdata/results/invoice_parse.json.
var openAIInvoice = Invoice{
	SourcePages: []int{1},
	Document:    InvoiceDocumentInfo{Type: "invoice"},
	Invoice: InvoiceHeader{
		InvoiceNumber:      "D7BDFA00-0019",
		IssueDate:          "2025-12-07",
		DueDate:            "2025-12-07",
		Currency:           "USD",
		PageInfo:           "1 of 1",
		TermsAndConditions: []string{},
	},
	References: InvoiceReferences{OtherReferences: []string{}},
	Seller: InvoiceSeller{
		Name:      "OpenAl, LLC",
		TradeName: "OpenAl",
		VATID:     "GB434338990",
		Address: InvoiceAddress{
			StreetLine1: "548 Market Street",
			StreetLine2: "PMB 97273",
			City:        "San Francisco",
			State:       "California",
			Postcode:    "94104-5401",
			Country:     "US",
		},
		BankDetails: []InvoiceBankDetails{{}},
	},
	Buyer: InvoiceBuyer{
		Name: "A2Z WEB LTD",
		BillingAddress: InvoiceAddress{
			StreetLine1: "Unit 4e Enterprise Court, Farfield",
			StreetLine2: "Park",
			City:        "Rotherham",
			Postcode:    "S63 5DB",
			Country:     "GB",
		},
		DeliveryAddress: InvoiceAddress{
			StreetLine1: "Unit 10 Enterprise Court",
			StreetLine2: "Farfield Park",
			City:        "Rotherham",
			Postcode:    "S63 5DB",
			Country:     "GB",
		},
	},
	Financials: InvoiceFinancials{
		Subtotal:       ptr(15.57),
		TotalExclTax:   ptr(15.57),
		TotalTaxAmount: ptr(3.11),
		TotalInclTax:   ptr(18.68),
		TotalPayable:   ptr(18.68),
		AmountDue:      ptr(18.68),
		TaxDetails: []InvoiceTax{{
			TaxType: "VAT", TaxRate: ptr(20.0), TaxableAmount: ptr(15.57), TaxAmount: ptr(3.11),
		}},
	},
	LineItems: []InvoiceLineItem{{
		LineNumber:   1,
		Description:  "OpenAl API usage credit",
		Quantity:     ptr(1.0),
		UnitPrice:    ptr(15.57),
		Subtotal:     ptr(15.57),
		TaxRate:      ptr(20.0),
		TaxType:      "VAT",
		TaxAmount:    ptr(3.11),
		TotalExclTax: ptr(15.57),
	}},
}
