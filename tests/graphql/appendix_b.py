"""Every GraphQL document in the SDK package's docs (`@waffo/pancake-ts` 0.25.0: its README and
docs/graphql-guide.md), verbatim, labelled B.1 onwards in the order they appear."""
# ruff: noqa: E501  (the documents are verbatim)

DOCUMENTS = {
    "B.1": (  # dist/index.d.ts
        """query { orders { id status } }"""
    ),
    "B.2": (  # dist/index.d.ts
        """query { stores { id name status } }"""
    ),
    "B.3": (  # dist/index.d.ts
        """query ($id: ID!) { onetimeProduct(id: $id) { id name prices } }"""
    ),
    "B.4": (  # README.md
        """query { orders { id status createdAt } }"""
    ),
    "B.5": (  # README.md
        """query ($id: ID!) {
    store(id: $id) {
      id name
      onetimeProducts { id name status prices }
      subscriptionProducts { id name billingPeriod status }
    }
  }"""
    ),
    "B.6": (  # README.md
        """query ($ref: String!) {
    payments(filter: { orderMerchantExternalId: { eq: $ref } }) {
      id orderId status orderMerchantExternalId
    }
  }"""
    ),
    "B.7": (  # README.md
        """query { stores { id } }"""
    ),
    "B.8": (  # docs/graphql-guide.md
        """{
    __schema {
      queryType {
        fields {
          name
          description
          args { name type { name kind ofType { name } } }
        }
      }
    }
  }"""
    ),
    "B.9": (  # docs/graphql-guide.md
        """{
    __type(name: "OnetimeOrder") {
      fields {
        name
        type { name kind ofType { name } }
      }
    }
  }"""
    ),
    "B.10": (  # docs/graphql-guide.md
        """query { stores { id name slug status supportEmail createdAt } }"""
    ),
    "B.11": (  # docs/graphql-guide.md
        """query ($id: ID!) {
    store(id: $id) { id name slug status }
  }"""
    ),
    "B.12": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    onetimeProducts(storeId: $storeId, filter: { status: { eq: "active" } }) {
      id name status
      prices { currency priceInfo { amount taxCategory } }
      hasProdVersion
    }
  }"""
    ),
    "B.13": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    subscriptionProducts(storeId: $storeId) {
      id name billingPeriod status
      prices { currency priceInfo { amount taxCategory } }
    }
  }"""
    ),
    "B.14": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    onetimeOrders(storeId: $storeId) {
      id buyerEmail currency status
      priceSnapshot { currency subtotal taxAmount total taxCategory }
      onetimeProduct { name }
      createdAt
    }
  }"""
    ),
    "B.15": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    subscriptionOrders(storeId: $storeId) {
      id buyerEmail status billingPeriod
      priceSnapshot {
        currency
        regularPhase { subtotal taxAmount total taxCategory }
        specialPhase { subtotal taxAmount total taxCategory }
        specialPhaseDays
      }
      currentPeriodEnd canceledAt
    }
  }"""
    ),
    "B.16": (  # docs/graphql-guide.md
        """query ($id: ID!) {
    onetimeOrder(id: $id) {
      id buyerEmail currency status testMode
      priceSnapshot { currency subtotal taxAmount total taxCategory }
      billingDetail { country isBusiness postcode state businessName taxId }
      onetimeProduct { id name }
      productVersion { id versionNumber name }
      payments {
        id status refundStatus
        snapshotAmountDetails { currency subtotal taxAmount total taxCategory phase }
        cardInfo { brand last4 expMonth expYear }
        failureReason createdAt
        refunds { id status requestedAmountDetails { currency amount } createdAt }
      }
      createdAt updatedAt
    }
  }"""
    ),
    "B.17": (  # docs/graphql-guide.md
        """query ($id: ID!) {
    subscriptionOrder(id: $id) {
      id buyerEmail status billingPeriod
      priceSnapshot {
        currency specialPhaseDays
        specialPhase { subtotal taxAmount total taxCategory }
        regularPhase { subtotal taxAmount total taxCategory }
      }
      billingDetail { country isBusiness }
      currentPeriodStart currentPeriodEnd canceledAt
      subscriptionProduct { id name }
      productVersion { id versionNumber name }
      payments {
        id status refundStatus
        snapshotAmountDetails { currency subtotal taxAmount total taxCategory phase }
        createdAt
      }
      createdAt
    }
  }"""
    ),
    "B.18": (  # docs/graphql-guide.md
        """query {
    payments(filter: { status: { eq: "succeeded" } }) {
      id
      onetimeOrder { id }
      subscriptionOrder { id }
      snapshotAmountDetails { currency subtotal taxAmount total taxCategory phase }
      cardInfo { brand last4 }
      status createdAt
    }
  }"""
    ),
    "B.19": (  # docs/graphql-guide.md
        """query {
    refundTickets(limit: 20, filter: { status: { eq: "pending" } }) {
      id status reason
      requestedAmountDetails { currency amount }
      payment {
        id status
        snapshotAmountDetails { currency subtotal taxAmount total taxCategory phase }
        onetimeOrder { id buyerEmail store { name } }
        subscriptionOrder { id buyerEmail store { name } }
      }
      createdAt updatedAt
    }
    refundTicketsCount(filter: { status: { eq: "pending" } })
  }"""
    ),
    "B.20": (  # docs/graphql-guide.md
        """query ($ref: String!) {
    refundTickets(filter: { refundTicketMerchantExternalId: { eq: $ref } }) {
      id status refundTicketMerchantExternalId
    }
    refunds(filter: { refundTicketMerchantExternalId: { eq: $ref } }) {
      id status orderMerchantExternalId refundTicketMerchantExternalId
      pspAmountDetails { amount currency }
    }
  }"""
    ),
    "B.21": (  # docs/graphql-guide.md
        """query ($id: ID!) {
    merchant(id: $id) {
      id email name status
      storeMerchants {
        role
        store { id name slug status }
      }
      apiKeys { id nickname environment recentlyUsed createdAt }
    }
  }"""
    ),
    "B.22": (  # docs/graphql-guide.md
        """query ($productId: String!) {
    onetimeProductVersions(productId: $productId) {
      id versionNumber name description
      prices { currency priceInfo { amount taxCategory } }
      media { type url alt thumbnail }
      metadata isTestVersion isProdVersion createdAt
    }
  }"""
    ),
    "B.23": (  # docs/graphql-guide.md
        """query ($productId: String!) {
    subscriptionProductVersions(productId: $productId) {
      id versionNumber name description billingPeriod
      prices { currency priceInfo { amount taxCategory } }
      metadata isTestVersion isProdVersion createdAt
    }
  }"""
    ),
    "B.24": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    subscriptionProductGroups(storeId: $storeId) {
      id name description
      rules { sharedTrial }
      environment
      products {
        id name billingPeriod
        prices { currency priceInfo { amount taxCategory } }
      }
    }
  }"""
    ),
    "B.25": (  # docs/graphql-guide.md
        """query {
    rate(fromCurrency: USD, toCurrency: EUR) {
      fromCurrency toCurrency standardRate rateRefId expiryTime
    }
  }"""
    ),
    "B.26": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    webhookDeliveries(storeId: $storeId, limit: 20, filter: { status: { eq: "failed" } }) {
      id storeId eventType eventId
      payload webhookUrl status httpStatus responseBody
      attemptCount lastAttemptedAt createdAt
    }
    webhookDeliveriesCount(storeId: $storeId, filter: { status: { eq: "failed" } })
  }"""
    ),
    "B.27": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    emailDeliveries(storeId: $storeId, limit: 20, filter: { status: { eq: "failed" } }) {
      id storeId eventType eventId
      recipientType toAddress subject testMode
      status attemptCount lastAttemptedAt errorMessage createdAt
    }
    emailDeliveriesCount(storeId: $storeId, filter: { status: { eq: "failed" } })
  }"""
    ),
    "B.28": (  # docs/graphql-guide.md
        """query Dashboard($storeId: String!) {
    store(id: $storeId) { name slug status }
    onetimeOrdersCount(storeId: $storeId)
    subscriptionOrdersCount(storeId: $storeId)
    onetimeOrders(storeId: $storeId, limit: 5, filter: { status: { eq: "pending" } }) {
      id buyerEmail priceSnapshot { currency total } createdAt
    }
    refundTickets(limit: 5, filter: { status: { eq: "pending" } }) {
      id requestedAmountDetails { currency amount } reason createdAt
    }
    onetimeProductsCount(storeId: $storeId)
    subscriptionProductsCount(storeId: $storeId)
  }"""
    ),
    "B.29": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    storesCount
    storeMerchantsCount
    apiKeysCount
    onetimeProductsCount(storeId: $storeId, filter: { status: { eq: "active" } })
    subscriptionProductsCount(storeId: $storeId)
    subscriptionProductGroupsCount(storeId: $storeId)
    onetimeOrdersCount(storeId: $storeId)
    subscriptionOrdersCount(storeId: $storeId)
    paymentsCount
    refundsCount
    refundTicketsCount
    webhookDeliveriesCount(storeId: $storeId)
    emailDeliveriesCount(storeId: $storeId)
  }"""
    ),
    "B.30": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    orderStatistics(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      totalCount
      countsByStatus { status count }
      countsByPeriod(granularity: MONTH) { period count }
      revenueByCurrency { currency totalAmount paymentCount }
      revenueByPeriod(granularity: MONTH, currency: "usd") { period currency totalAmount paymentCount }
      buyerMetrics { totalBuyers newBuyers returningBuyers }
      revenueByCountry(currency: "usd") { country totalAmount paymentCount }
      ordersByCountry { country count }
      b2bVsB2cBreakdown(currency: "usd") { isBusiness label totalAmount orderCount }
      revenueByState(country: "US", currency: "usd") { state totalAmount paymentCount }
    }
  }"""
    ),
    "B.31": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    paymentStatistics(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      successRate { totalAttempts succeeded failed pending successRate }
      failedReasons { reason count percentage }
      refunds { totalCount succeededCount pendingCount failedCount amountByCurrency { currency totalAmount paymentCount } refundRate }
      methodDistribution { methodType count totalAmount percentage }
      cardBrandDistribution { brand count totalAmount percentage }
      taxSummary { currency totalTax totalPreTax totalAmount paymentCount }
      preTaxRevenueByCurrency { currency totalAmount paymentCount }
      settlementRevenueByCurrency { currency totalAmount paymentCount }
    }
  }"""
    ),
    "B.32": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    productStatistics(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      onetimeCountsByStatus { status count }
      subscriptionCountsByStatus { status count }
      onetimeTotalCount
      subscriptionTotalCount
      topByOrderCount(limit: 10) { productId productType productName orderCount totalRevenue currency }
      topByRevenue(limit: 10, currency: "usd") { productId productType productName orderCount totalRevenue currency }
      revenueContribution(currency: "usd") { productId productType productName revenue contributionPercentage cumulativePercentage }
    }
  }"""
    ),
    "B.33": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    trendAnalysis(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      orderGrowth(granularity: MONTH) { period currentValue previousValue growthRate }
      revenueGrowth(granularity: MONTH, currency: "usd") { period currentValue previousValue growthRate }
      cumulativeRevenue(granularity: MONTH, currency: "usd") { period periodValue cumulativeValue }
      orderMovingAverage(windowDays: 7) { date dailyValue movingAverage }
      revenueMovingAverage(windowDays: 7, currency: "usd") { date dailyValue movingAverage }
    }
  }"""
    ),
    "B.34": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    distributionAnalysis(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      orderAmountPercentiles(currency: "usd") { p10 p25 p50 p75 p90 p95 p99 min max avg stddev count }
      aovTrend(granularity: MONTH, currency: "usd") { period averageOrderValue orderCount totalRevenue }
      orderAmountBuckets(currency: "usd", bucketCount: 10) { rangeMin rangeMax count percentage }
    }
  }"""
    ),
    "B.35": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    customerAnalysis(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      cohortRetention(granularity: MONTH) {
        cohortPeriod cohortSize
        retention { periodOffset activeCustomers retentionRate }
      }
      ltvDistribution(currency: "usd") {
        averageLtv medianLtv
        buckets { rangeMin rangeMax count percentage }
      }
      purchaseFrequency { purchaseCount customerCount percentage }
      repeatPurchaseRate(granularity: MONTH) { period totalBuyers repeatBuyers repeatRate }
      topCustomers(limit: 10, currency: "usd") { buyerEmail totalSpent orderCount firstPurchaseDate lastPurchaseDate }
    }
  }"""
    ),
    "B.36": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    taxAnalysis(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      byCategory(currency: "usd") { taxCategory totalTax totalAmount paymentCount }
      byRateGroup(currency: "usd") { taxRate totalTax totalAmount paymentCount }
      byCountry(currency: "usd") { country totalTax totalAmount paymentCount }
      b2bVsB2c(currency: "usd") { isBusiness label totalTax totalAmount orderCount }
      effectiveTaxRateTrend(granularity: MONTH, currency: "usd") { period avgTaxRate paymentCount }
      taxAmountByPeriod(granularity: MONTH, currency: "usd") { period totalTax paymentCount }
    }
  }"""
    ),
    "B.37": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    subscriptionAnalysis(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      billingPeriodDistribution(currency: "usd") { billingPeriod count totalAmount percentage }
      activeCount
      cancellationStats { totalSubscriptions canceledCount cancellationRate avgLifetimeDays medianLifetimeDays }
      cancellationTrend(granularity: MONTH) { period canceledCount }
      trialConversion { totalTrials convertedCount activeTrials conversionRate }
      trialConversionByProduct { productId productName totalTrials convertedCount conversionRate }
      churnRate(granularity: MONTH) { period startActive churned churnRate }
    }
  }"""
    ),
    "B.38": (  # docs/graphql-guide.md
        """query ($storeId: String!) {
    refundTicketAnalysis(
      storeId: $storeId,
      filter: { timeRange: { startDate: "2025-01-01T00:00:00Z", endDate: "2026-01-01T00:00:00Z" } }
    ) {
      reasonDistribution(currency: "usd") { reason count totalAmount percentage }
      statusDistribution { status count percentage }
      reviewEfficiency { avgHours medianHours p90Hours totalReviewed }
      ticketTrend(granularity: MONTH) { period totalCreated resolvedCount approvedCount rejectedCount }
      approvalRate { approved rejected rate }
      processingSuccessRate { succeeded failed rate }
    }
  }"""
    ),
}
