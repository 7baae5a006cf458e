package sharpapi

import (
	"context"
	"encoding/json"
)

// ParseInvoiceParams are the parameters of ParseInvoice.
type ParseInvoiceParams struct {
	// File is the invoice: PDF, DOC, DOCX, or an image (JPG, PNG, TIFF) of a
	// scanned one; at most 100 MB. Required.
	File File
	// Language is the language of the parsed text fields, an English name
	// such as "German"; SharpAPI defaults to English.
	Language string
}

func (p ParseInvoiceParams) validate() error { return requiredFile("ParseInvoiceParams.File", p.File) }

// ParseInvoiceResult holds the documents found in an invoice file: one per
// invoice, credit note or delivery order, even where a file holds several.
type ParseInvoiceResult struct {
	Documents []Invoice `json:"documents"`
}

// UnmarshalJSON accepts the array of documents SharpAPI sends, the single
// document object some of its examples show, and {"documents": [...]}.
func (r *ParseInvoiceResult) UnmarshalJSON(b []byte) error {
	if isObjectWithout(b, "documents") {
		var doc Invoice
		if err := json.Unmarshal(b, &doc); err != nil {
			return err
		}
		r.Documents = []Invoice{doc}
		return nil
	}
	return unmarshalList(b, "documents", &r.Documents)
}

// Invoice is one document parsed from an invoice file.
//
// Throughout, a field the document does not show is empty: "" for text
// and for dates (which are as written, usually "2006-01-02"), nil for an
// amount, false for a flag. Amounts are in Invoice.Invoice.Currency.
type Invoice struct {
	// SourcePages are the pages of the file the document is on, from 1.
	SourcePages []int               `json:"source_pages"`
	Document    InvoiceDocumentInfo `json:"document"`
	// Invoice holds the document's number, dates and currency.
	Invoice    InvoiceHeader     `json:"invoice"`
	References InvoiceReferences `json:"references"`
	// EInvoice holds the registration of a government e-invoice (such as
	// Malaysia's MyInvois).
	EInvoice   InvoiceEInvoice   `json:"e_invoice"`
	Seller     InvoiceSeller     `json:"seller"`
	Buyer      InvoiceBuyer      `json:"buyer"`
	SalesInfo  InvoiceSalesInfo  `json:"sales_info"`
	Financials InvoiceFinancials `json:"financials"`
	LineItems  []InvoiceLineItem `json:"line_items"`
	Payment    InvoicePayment    `json:"payment"`
	Logistics  InvoiceLogistics  `json:"logistics"`
}

// InvoiceDocumentInfo says what kind of document was parsed.
type InvoiceDocumentInfo struct {
	// Type is the kind of document ("invoice").
	Type string `json:"type"`
	// OriginalTypeLabel is the document's own title for itself, if unusual.
	OriginalTypeLabel string `json:"original_type_label"`
	// IsCopy and CopyType say whether this is a copy, and which.
	IsCopy   bool   `json:"is_copy"`
	CopyType string `json:"copy_type"`
}

// InvoiceHeader holds an invoice's number, dates and currency.
type InvoiceHeader struct {
	InvoiceNumber string `json:"invoice_number"`
	IssueDate     string `json:"issue_date"`
	DueDate       string `json:"due_date"`
	DocumentDate  string `json:"document_date"`
	OrderDate     string `json:"order_date"`
	DeliveryDate  string `json:"delivery_date"`
	ShippingDate  string `json:"shipping_date"`
	PricingDate   string `json:"pricing_date"`
	// Currency is an ISO 4217 code ("USD").
	Currency     string   `json:"currency"`
	ExchangeRate *float64 `json:"exchange_rate"`
	// PageInfo is the page numbering as printed ("1 of 1").
	PageInfo                string   `json:"page_info"`
	AmountInWords           string   `json:"amount_in_words"`
	Notes                   string   `json:"notes"`
	Remarks                 string   `json:"remarks"`
	DeliveryInstructions    string   `json:"delivery_instructions"`
	TermsAndConditions      []string `json:"terms_and_conditions"`
	LatePaymentInterestRate *float64 `json:"late_payment_interest_rate"`
}

// InvoiceReferences holds the numbers of related documents.
type InvoiceReferences struct {
	DeliveryOrderNumber    string   `json:"delivery_order_number"`
	PurchaseOrderNumber    string   `json:"purchase_order_number"`
	SalesOrderNumber       string   `json:"sales_order_number"`
	CustomerReference      string   `json:"customer_reference"`
	ExternalDocumentNumber string   `json:"external_document_number"`
	GRNNumber              string   `json:"grn_number"`
	RouteNumber            string   `json:"route_number"`
	LorryNumber            string   `json:"lorry_number"`
	SerialNumber           string   `json:"serial_number"`
	BatchNumber            string   `json:"batch_number"`
	OtherReferences        []string `json:"other_references"`
}

// InvoiceEInvoice holds the registration of a government e-invoice.
type InvoiceEInvoice struct {
	UUID                    string `json:"uuid"`
	EInvoiceCode            string `json:"e_invoice_code"`
	EInvoiceType            string `json:"e_invoice_type"`
	EInvoiceVersion         string `json:"e_invoice_version"`
	SubmissionID            string `json:"submission_id"`
	SubmissionDocumentID    string `json:"submission_document_id"`
	SubmissionLongID        string `json:"submission_long_id"`
	SubmissionStatus        string `json:"submission_status"`
	ValidationDatetime      string `json:"validation_datetime"`
	DigitalSignaturePresent bool   `json:"digital_signature_present"`
	ValidatedLink           string `json:"validated_link"`
	OriginalEInvoiceRef     string `json:"original_e_invoice_ref"`
	QRCodePresent           bool   `json:"qr_code_present"`
}

// InvoiceSeller is the party that issued an invoice.
type InvoiceSeller struct {
	Name      string `json:"name"`
	TradeName string `json:"trade_name"`
	// RegistrationNumber, TIN, SSTID, GSTID and VATID are the seller's
	// company and tax registrations.
	RegistrationNumber string `json:"registration_number"`
	TIN                string `json:"tin"`
	SSTID              string `json:"sst_id"`
	GSTID              string `json:"gst_id"`
	VATID              string `json:"vat_id"`
	// MSICCode is the Malaysian industry classification code.
	MSICCode         string               `json:"msic_code"`
	BusinessActivity string               `json:"business_activity"`
	Address          InvoiceAddress       `json:"address"`
	Phone            string               `json:"phone"`
	Fax              string               `json:"fax"`
	Email            string               `json:"email"`
	Website          string               `json:"website"`
	BankDetails      []InvoiceBankDetails `json:"bank_details"`
	ContactPerson    InvoiceContact       `json:"contact_person"`
}

// InvoiceBuyer is the party an invoice is addressed to.
type InvoiceBuyer struct {
	Name      string `json:"name"`
	TradeName string `json:"trade_name"`
	// RegistrationNumber, TIN, BRN, SSTID, GSTID and VATID are the buyer's
	// company and tax registrations.
	RegistrationNumber           string         `json:"registration_number"`
	TIN                          string         `json:"tin"`
	BRN                          string         `json:"brn"`
	SSTID                        string         `json:"sst_id"`
	GSTID                        string         `json:"gst_id"`
	VATID                        string         `json:"vat_id"`
	CustomerAccountNumber        string         `json:"customer_account_number"`
	BillingAddress               InvoiceAddress `json:"billing_address"`
	DeliveryAddress              InvoiceAddress `json:"delivery_address"`
	DeliveryAddressSameAsBilling bool           `json:"delivery_address_same_as_billing"`
	Phone                        string         `json:"phone"`
	Fax                          string         `json:"fax"`
	Email                        string         `json:"email"`
	AttentionTo                  InvoiceContact `json:"attention_to"`
}

// InvoiceAddress is a postal address on an invoice. RecipientName is set
// only on delivery addresses.
type InvoiceAddress struct {
	RecipientName string `json:"recipient_name"`
	LocationName  string `json:"location_name"`
	StreetLine1   string `json:"street_line_1"`
	StreetLine2   string `json:"street_line_2"`
	City          string `json:"city"`
	State         string `json:"state"`
	Postcode      string `json:"postcode"`
	// Country is an ISO 3166-1 alpha-2 code ("GB").
	Country string `json:"country"`
}

// InvoiceBankDetails is a bank account to pay an invoice into.
type InvoiceBankDetails struct {
	BankName      string `json:"bank_name"`
	AccountName   string `json:"account_name"`
	AccountNumber string `json:"account_number"`
	SortCode      string `json:"sort_code"`
	SwiftCode     string `json:"swift_code"`
	IBAN          string `json:"iban"`
}

// InvoiceContact is a person named on an invoice. Role is set only for the
// seller's contact person.
type InvoiceContact struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// InvoiceSalesInfo names who made the sale.
type InvoiceSalesInfo struct {
	SalespersonName  string `json:"salesperson_name"`
	SalespersonCode  string `json:"salesperson_code"`
	SalespersonPhone string `json:"salesperson_phone"`
	SalesAgent       string `json:"sales_agent"`
	SalesLocation    string `json:"sales_location"`
	SalesDepartment  string `json:"sales_department"`
	OutletName       string `json:"outlet_name"`
}

// InvoiceFinancials are an invoice's totals.
type InvoiceFinancials struct {
	Subtotal            *float64     `json:"subtotal"`
	GrossAmount         *float64     `json:"gross_amount"`
	TotalDiscountAmount *float64     `json:"total_discount_amount"`
	ShippingCharge      *float64     `json:"shipping_charge"`
	DeliveryFee         *float64     `json:"delivery_fee"`
	TotalExclTax        *float64     `json:"total_excl_tax"`
	TotalTaxAmount      *float64     `json:"total_tax_amount"`
	ServiceTaxAmount    *float64     `json:"service_tax_amount"`
	TotalInclTax        *float64     `json:"total_incl_tax"`
	RoundingAdjustment  *float64     `json:"rounding_adjustment"`
	TotalPayable        *float64     `json:"total_payable"`
	AmountPaid          *float64     `json:"amount_paid"`
	AmountDue           *float64     `json:"amount_due"`
	TaxDetails          []InvoiceTax `json:"tax_details"`
}

// InvoiceTax is the tax of one type and rate on an invoice.
type InvoiceTax struct {
	// TaxType is the tax's name ("VAT").
	TaxType string `json:"tax_type"`
	// TaxRate is a percentage (20 for 20%).
	TaxRate       *float64 `json:"tax_rate"`
	TaxableAmount *float64 `json:"taxable_amount"`
	TaxAmount     *float64 `json:"tax_amount"`
}

// InvoiceLineItem is one line of an invoice.
type InvoiceLineItem struct {
	// LineNumber numbers the lines from 1.
	LineNumber         int      `json:"line_number"`
	ItemCode           string   `json:"item_code"`
	StockCode          string   `json:"stock_code"`
	Barcode            string   `json:"barcode"`
	Description        string   `json:"description"`
	ClassificationCode string   `json:"classification_code"`
	CountryOfOrigin    string   `json:"country_of_origin"`
	Quantity           *float64 `json:"quantity"`
	FreeQuantity       *float64 `json:"free_quantity"`
	// UnitOfMeasure is normalised; UnitOfMeasureRaw is as printed.
	UnitOfMeasure    string   `json:"unit_of_measure"`
	UnitOfMeasureRaw string   `json:"unit_of_measure_raw"`
	PackSize         string   `json:"pack_size"`
	TotalUnits       *float64 `json:"total_units"`
	Weight           *float64 `json:"weight"`
	WeightUOM        string   `json:"weight_uom"`
	UnitPrice        *float64 `json:"unit_price"`
	// DiscountPercent is a percentage (10 for 10%).
	DiscountPercent *float64 `json:"discount_percent"`
	DiscountAmount  *float64 `json:"discount_amount"`
	Subtotal        *float64 `json:"subtotal"`
	// TaxRate is a percentage (20 for 20%).
	TaxRate          *float64 `json:"tax_rate"`
	TaxType          string   `json:"tax_type"`
	TaxAmount        *float64 `json:"tax_amount"`
	TotalExclTax     *float64 `json:"total_excl_tax"`
	TotalInclTax     *float64 `json:"total_incl_tax"`
	ExpiryDate       string   `json:"expiry_date"`
	BatchLotNumber   string   `json:"batch_lot_number"`
	ServiceStartDate string   `json:"service_start_date"`
	ServiceEndDate   string   `json:"service_end_date"`
}

// InvoicePayment holds how and when an invoice is to be paid.
type InvoicePayment struct {
	// PaymentTerms is as printed ("Net 30"); PaymentTermsDays is its number
	// of days.
	PaymentTerms     string   `json:"payment_terms"`
	PaymentTermsDays *float64 `json:"payment_terms_days"`
	PaymentMethod    string   `json:"payment_method"`
	PaymentDate      string   `json:"payment_date"`
	PaymentReference string   `json:"payment_reference"`
	// JomPayBillerCode and JomPayRef1 are Malaysian JomPAY bill payment
	// references.
	JomPayBillerCode string `json:"jompay_biller_code"`
	JomPayRef1       string `json:"jompay_ref_1"`
}

// InvoiceLogistics holds the delivery of the goods invoiced.
type InvoiceLogistics struct {
	ShippingMethod            string   `json:"shipping_method"`
	VehicleNumber             string   `json:"vehicle_number"`
	DriverName                string   `json:"driver_name"`
	DeliveryZone              string   `json:"delivery_zone"`
	DeliveryTimeConstraint    string   `json:"delivery_time_constraint"`
	CartonCount               *float64 `json:"carton_count"`
	TotalVolume               *float64 `json:"total_volume"`
	TotalWeight               *float64 `json:"total_weight"`
	GoodsReceivedConfirmation bool     `json:"goods_received_confirmation"`
	ReceivedBy                string   `json:"received_by"`
	ReceiverSignaturePresent  bool     `json:"receiver_signature_present"`
}

// ParseInvoice parses an invoice file (or a file of several invoices) into
// its parties, totals, taxes and line items. POST /finance/parse_invoice,
// as multipart/form-data; the job's type is JobTypeInvoiceParse.
func (c *Client) ParseInvoice(ctx context.Context, p ParseInvoiceParams, opts ...RequestOption) (*Job[ParseInvoiceResult], error) {
	return dispatchForm[ParseInvoiceResult](ctx, c, "/finance/parse_invoice", JobTypeInvoiceParse, p,
		textFields("language", p.Language), []formFile{{"file", p.File}}, opts)
}
